// Real upstream HTTP servers for the worker tests, started in Node on 127.0.0.1 port 0. Each answers with who it
// is and what it received; /echo streams the request body straight back; /bytes streams n deterministic bytes.
// A "dead" port (bound then closed) stands for a backend that refuses connections.
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { type AddressInfo, createServer as createNetServer, type Server as NetServer } from "node:net";
import type { Duplex } from "node:stream";
import type { TestProject } from "vitest/node";
import { startChaos } from "./chaos-servers.ts";

/// <reference path="./env.d.ts" />
/// <reference path="./chaos.d.ts" />

function handler(name: string) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://upstream");
    if (url.pathname === "/echo") {
      res.writeHead(200, { "content-type": "application/octet-stream", "x-backend": name });
      req.pipe(res);
      return;
    }
    if (url.pathname === "/slow") {
      // Answers at once, then keeps the body open for ?ms= milliseconds: a request in flight on this backend.
      res.writeHead(200, { "content-type": "text/plain", "x-backend": name });
      res.write("started\n");
      setTimeout(() => res.end("done\n"), Number(url.searchParams.get("ms") ?? "1000"));
      return;
    }
    if (url.pathname === "/bytes") {
      const n = Number(url.searchParams.get("n") ?? "0");
      res.writeHead(200, {
        "content-type": "application/octet-stream",
        "x-backend": name,
        "content-length": String(n),
      });
      let sent = 0;
      const chunk = Buffer.alloc(64 * 1024);
      for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31 + 7) & 0xff;
      const pump = () => {
        while (sent < n) {
          const part = chunk.subarray(0, Math.min(chunk.length, n - sent));
          sent += part.length;
          if (!res.write(part)) return void res.once("drain", pump);
        }
        res.end();
      };
      pump();
      return;
    }
    const hash = createHash("sha256");
    let length = 0;
    req.on("data", (d: Buffer) => {
      hash.update(d);
      length += d.length;
    });
    req.on("end", () => {
      const status = Number(url.searchParams.get("status") ?? "200");
      const extra: Record<string, string> = {};
      if (url.searchParams.has("location")) extra.location = url.searchParams.get("location")!;
      res.writeHead(status, {
        "content-type": "application/json",
        "x-backend": name,
        connection: "x-private-hop",
        "x-private-hop": "secret",
        ...extra,
      });
      res.end(
        JSON.stringify({
          backend: name,
          method: req.method,
          path: url.pathname,
          search: url.search,
          headers: req.headers,
          body: { length, sha256: hash.digest("hex") },
        }),
      );
    });
  };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

async function listenNet(server: NetServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

const upgraded = new Set<Duplex>();

/** A minimal WebSocket echo (RFC 6455): handshake, then each short masked client frame comes back unmasked. */
function acceptWebSocket(name: string) {
  return (req: IncomingMessage, socket: Duplex) => {
    const key = req.headers["sec-websocket-key"];
    const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nx-backend: ${name}\r\n\r\n`,
    );
    socket.on("data", (frame: Buffer) => {
      const opcode = frame[0]! & 0x0f;
      const len = frame[1]! & 0x7f; // tests send < 126 bytes
      if (opcode === 0x8) return void socket.end(Buffer.from([0x88, 0x00]));
      const mask = frame.subarray(2, 6);
      const data = Buffer.from(frame.subarray(6, 6 + len).map((b, i) => b ^ mask[i % 4]!));
      const reply = Buffer.from(`${name}:${data.toString()}`);
      socket.write(Buffer.concat([Buffer.from([0x81, reply.length]), reply]));
    });
    socket.on("error", () => {});
    upgraded.add(socket);
    socket.on("close", () => upgraded.delete(socket));
  };
}

export default async function setup(project: TestProject) {
  const servers = ["a", "b", "c"].map((name) => {
    const server = createServer(handler(name));
    server.on("upgrade", acceptWebSocket(name));
    return server;
  });
  const [a, b, c] = await Promise.all(servers.map(listen));
  const probe = createServer();
  const dead = await listen(probe);
  await new Promise((resolve) => probe.close(resolve));
  // reset: accepts, reads the request head, then drops the connection (the request was sent, no answer).
  const reset = createNetServer((socket) => socket.once("data", () => socket.destroy()));
  const resetPort = await listenNet(reset);
  project.provide("upstreams", { a: a!, b: b!, c: c!, dead, reset: resetPort });
  const chaos = await startChaos();
  project.provide("chaos", chaos.port);
  return async () => {
    await chaos.close();
    for (const s of servers) s.closeAllConnections();
    for (const socket of upgraded) socket.destroy();
    await Promise.all([...servers, reset].map((s) => new Promise((resolve) => s.close(resolve))));
  };
}
