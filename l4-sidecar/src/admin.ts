// The admin endpoint (--admin host:port): /metrics (Prometheus), /status (JSON), /healthz (alive), /readyz
// (listening and not draining). Bind it to loopback or a private address: it has no authentication.
import { once } from "node:events";
import http from "node:http";
import type { Registry } from "prom-client";

export interface AdminSources {
  registry: () => Registry | Promise<Registry>;
  metrics?: () => Promise<string>;
  status: () => unknown | Promise<unknown>;
  ready: () => boolean;
}

export async function startAdmin(host: string, port: number, sources: AdminSources): Promise<http.Server> {
  const server = http.createServer(async (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    try {
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { allow: "GET, HEAD" }).end();
      } else if (path === "/metrics") {
        const registry = await sources.registry();
        const body = sources.metrics ? await sources.metrics() : await registry.metrics();
        res.writeHead(200, { "content-type": registry.contentType }).end(body);
      } else if (path === "/status") {
        res
          .writeHead(200, { "content-type": "application/json" })
          .end(`${JSON.stringify(await sources.status(), null, 2)}\n`);
      } else if (path === "/healthz") {
        res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      } else if (path === "/readyz") {
        const ready = sources.ready();
        res
          .writeHead(ready ? 200 : 503, { "content-type": "text/plain" })
          .end(ready ? "ready\n" : "not ready\n");
      } else {
        res
          .writeHead(404, { "content-type": "text/plain" })
          .end("not found: try /metrics, /status, /healthz, /readyz\n");
      }
    } catch (err) {
      res.writeHead(500, { "content-type": "text/plain" }).end(`${(err as Error).message}\n`);
    }
  });
  server.listen(port, host);
  await once(server, "listening");
  return server;
}
