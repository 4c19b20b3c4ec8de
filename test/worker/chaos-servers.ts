// Backends whose behaviour tests change while they run (Node side, started by global-setup.ts): workerd tests
// cannot open servers, so they drive these over HTTP on the control port.
//   POST /spawn                         → { port }: a new backend on 127.0.0.1, answering 200 JSON
//   POST /mode/<port>?mode=&health=     mode: ok | 500 | 503 | hang | reset, or 503-after-<s> (with Retry-After)
//                                       health: ok | fail (what GET /health answers; "ok" also checks the body)
//   POST /kill/<port>                   close the listener and destroy its open connections (a crashed backend)
//   POST /revive/<port>                 listen again on the same port (the crashed backend restarted)
//   GET  /stats/<port>                  { requests, methods, attempts } seen by that backend
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

interface Backend {
  server: Server;
  sockets: Set<Socket>;
  mode: string;
  health: string;
  requests: number;
  methods: Record<string, number>;
  /** Values of x-switchyard-attempt seen, in order. */
  attempts: string[];
  hanging: Set<ServerResponse>;
}

async function listen(server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** A fresh listener for `b` (the first one, or a restart after a kill), counting into the same stats. */
async function open(b: Backend, port = 0): Promise<number> {
  b.server = createServer();
  b.server.on("connection", (s: Socket) => {
    b.sockets.add(s);
    s.on("close", () => b.sockets.delete(s));
  });
  const bound = await listen(b.server, port);
  b.server.on("request", backendHandler(b, bound));
  return bound;
}

function backendHandler(b: Backend, port: number) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (d: Buffer) => chunks.push(d));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://backend");
      if (url.pathname === "/health") {
        const ok = b.health === "ok";
        res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" });
        return void res.end(ok ? "status: ok" : "status: failing");
      }
      b.requests++;
      b.methods[req.method ?? "?"] = (b.methods[req.method ?? "?"] ?? 0) + 1;
      b.attempts.push(String(req.headers["x-switchyard-attempt"] ?? ""));
      const mode = b.mode;
      if (mode === "hang") {
        b.hanging.add(res);
        res.on("close", () => b.hanging.delete(res));
        return;
      }
      if (mode === "reset") return void req.socket.destroy();
      const retryAfter = /^503-after-(\d+)$/.exec(mode);
      const status = retryAfter ? 503 : mode === "500" ? 500 : mode === "503" ? 503 : 200;
      res.writeHead(status, {
        "content-type": "application/json",
        ...(retryAfter ? { "retry-after": retryAfter[1] } : {}),
      });
      res.end(
        JSON.stringify({ backend: port, status, method: req.method, length: Buffer.concat(chunks).length }),
      );
    });
  };
}

export async function startChaos(): Promise<{ port: number; close: () => Promise<void> }> {
  const backends = new Map<number, Backend>();

  const kill = async (b: Backend) => {
    for (const res of b.hanging) res.destroy();
    for (const s of b.sockets) s.destroy();
    await new Promise((resolve) => b.server.close(resolve));
  };

  const control = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://control");
    const [, action, portText] = url.pathname.split("/");
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (action === "spawn") {
      const b: Backend = {
        server: undefined as unknown as Server,
        sockets: new Set(),
        mode: url.searchParams.get("mode") ?? "ok",
        health: url.searchParams.get("health") ?? "ok",
        requests: 0,
        methods: {},
        attempts: [],
        hanging: new Set(),
      };
      const port = await open(b);
      backends.set(port, b);
      return reply(200, { port });
    }
    const b = backends.get(Number(portText));
    if (!b) return reply(404, { error: `no backend on port ${portText}` });
    if (action === "mode") {
      b.mode = url.searchParams.get("mode") ?? b.mode;
      b.health = url.searchParams.get("health") ?? b.health;
      return reply(200, { mode: b.mode, health: b.health });
    }
    if (action === "kill") {
      if (b.server.listening) await kill(b);
      return reply(200, { killed: Number(portText) });
    }
    if (action === "revive") {
      if (!b.server.listening) await open(b, Number(portText));
      return reply(200, { revived: Number(portText) });
    }
    if (action === "stats")
      return reply(200, { requests: b.requests, methods: b.methods, attempts: b.attempts });
    reply(404, { error: "unknown action" });
  });
  const port = await listen(control);
  return {
    port,
    close: async () => {
      await Promise.all([...backends.values()].filter((b) => b.server.listening).map(kill));
      control.closeAllConnections();
      await new Promise((resolve) => control.close(resolve));
    },
  };
}
