// The admin endpoint (--admin host:port): / (the operator's page), /metrics (Prometheus), /status (JSON),
// /healthz (alive), /readyz (listening and not draining), and POST /actions (drain, maint, ready a backend),
// which needs the admin token. Reading needs no token: bind it to loopback or a private address.
import { createHash, timingSafeEqual } from "node:crypto";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import http from "node:http";
import type { Registry } from "prom-client";
import { renderAdminPage, type StatusView } from "./admin-page.ts";
import { ActionError, type OperatorAction, type OperatorChange, parseAction } from "./operator.ts";

export interface AdminSources {
  registry: () => Registry | Promise<Registry>;
  metrics?: () => Promise<string>;
  status: () => unknown | Promise<unknown>;
  /** The status as one process sees it (with --workers: the workers' statuses merged), for the page. */
  view: () => StatusView | Promise<StatusView>;
  ready: () => boolean;
  /** Applies an operator action; throws an ActionError for a request that cannot be served. */
  act: (a: OperatorAction) => Promise<OperatorChange[]>;
  /** The admin token; without one, POST /actions answers 403. */
  token?: string;
}

/** The admin token from --admin-token-file, else $SWITCHYARD_ADMIN_TOKEN; undefined when neither is set. */
export function readAdminToken(file: string | undefined): string | undefined {
  const token = file === undefined ? process.env.SWITCHYARD_ADMIN_TOKEN : readFileSync(file, "utf8").trim();
  if (file !== undefined && !token) throw new Error(`${file} is empty`);
  return token || undefined;
}

const BODY_LIMIT = 64 * 1024;
const digest = (s: string) => createHash("sha256").update(s).digest();

/** Compared as digests, in constant time. */
function tokenMatches(given: string | undefined, token: string): boolean {
  return given !== undefined && timingSafeEqual(digest(given), digest(token));
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT) throw new ActionError(413, `the body is larger than ${BODY_LIMIT} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** A form (application/x-www-form-urlencoded, repeated names become arrays) or a JSON object. */
function fields(type: string, body: string): Record<string, unknown> {
  if (type.startsWith("application/json")) {
    try {
      const v = JSON.parse(body);
      if (v && typeof v === "object" && !Array.isArray(v)) return v;
    } catch {}
    throw new ActionError(400, "the body is not a JSON object");
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
  }
  return out;
}

/** POST /actions: the token (Authorization: Bearer, or a `token` form field from the page), then the action. */
async function action(req: http.IncomingMessage, res: http.ServerResponse, sources: AdminSources) {
  if (!sources.token)
    throw new ActionError(
      403,
      "runtime actions are off: start switchyard-l4 with --admin-token-file or SWITCHYARD_ADMIN_TOKEN",
    );
  const f = fields(req.headers["content-type"] ?? "", await readBody(req));
  const auth = req.headers.authorization;
  const given = auth?.startsWith("Bearer ")
    ? auth.slice(7)
    : typeof f.token === "string"
      ? f.token
      : undefined;
  if (!tokenMatches(given, sources.token)) throw new ActionError(401, "a valid admin token is required");
  const changes = await sources.act(parseAction(f));
  // The page's forms come back to the page; API clients get the changes.
  if ((req.headers.accept ?? "").includes("text/html")) res.writeHead(303, { location: "/" }).end();
  else res.writeHead(200, { "content-type": "application/json" }).end(`${JSON.stringify({ changes })}\n`);
}

export async function startAdmin(host: string, port: number, sources: AdminSources): Promise<http.Server> {
  const server = http.createServer(async (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    try {
      if (req.method === "POST" && path === "/actions") {
        await action(req, res, sources);
      } else if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { allow: path === "/actions" ? "POST" : "GET, HEAD" }).end();
      } else if (path === "/") {
        res
          .writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" })
          .end(renderAdminPage(await sources.view(), Date.now(), sources.token !== undefined));
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
          .end("not found: try /, /metrics, /status, /healthz, /readyz, POST /actions\n");
      }
    } catch (err) {
      const status = err instanceof ActionError ? err.status : 500;
      if (!res.headersSent)
        res
          .writeHead(status, { "content-type": "application/json" })
          .end(`${JSON.stringify({ error: (err as Error).message })}\n`);
    }
  });
  server.listen(port, host);
  await once(server, "listening");
  return server;
}
