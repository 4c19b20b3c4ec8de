// Real upstream HTTP servers for the worker tests, started in Node on 127.0.0.1 port 0. Each answers with who it
// is and what it received; /echo streams the request body straight back; /bytes streams n deterministic bytes.
// A "dead" port (bound then closed) stands for a backend that refuses connections.
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { type AddressInfo, createServer as createNetServer, type Server as NetServer } from "node:net";
import type { TestProject } from "vitest/node";

/// <reference path="./env.d.ts" />

function handler(name: string) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://upstream");
    if (url.pathname === "/echo") {
      res.writeHead(200, { "content-type": "application/octet-stream", "x-backend": name });
      req.pipe(res);
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

export default async function setup(project: TestProject) {
  const servers = ["a", "b", "c"].map((name) => createServer(handler(name)));
  const [a, b, c] = await Promise.all(servers.map(listen));
  const probe = createServer();
  const dead = await listen(probe);
  await new Promise((resolve) => probe.close(resolve));
  // reset: accepts, reads the request head, then drops the connection (the request was sent, no answer).
  const reset = createNetServer((socket) => socket.once("data", () => socket.destroy()));
  const resetPort = await listenNet(reset);
  project.provide("upstreams", { a: a!, b: b!, c: c!, dead, reset: resetPort });
  return async () => {
    for (const s of servers) s.closeAllConnections();
    await Promise.all([...servers, reset].map((s) => new Promise((resolve) => s.close(resolve))));
  };
}
