// The admin API, as its own small Hono app with paths relative to the admin prefix (stage.ts mounts it):
//   GET  /                 the dashboard page (no data in it; the page asks for the token and calls the API)
//   GET  /config           the live document (JSON) with an ETag; If-None-Match → 304 (the sidecar polls this)
//   GET  /config/status    version, source, last re-check, reload errors, the kept versions
//   PUT  /config           validate, write a new version to KV, serve it at once (If-Match for safe updates)
//   POST /config/validate  problems, warnings and the changes against the live document; nothing is written
//   POST /config/rollback  { "version": n } or the previous version, written as a new version; version 0
//                          (wrangler.toml's config, the one before the first write) removes the KV document
//   GET  /explain          ?url=&method=&header=name:value&ip= → core/explain with the live config
//   GET  /health           services and backends with active and passive state, and operator state
//   POST /actions          { service, backend, state }: drain, maint or ready a backend (admin/operator.ts)
//   GET  /metrics          Prometheus text
//   GET  /stats            what the dashboard draws: status, routes, health, metrics with a timeline
// Every path but the page needs `Authorization: Bearer <ADMIN_TOKEN>`; without the secret everything is 404.
import { Hono } from "hono/tiny";
import { DEFAULTS } from "../../../core/config/defaults.ts";
import { type Change, diffConfig } from "../../../core/config/diff.ts";
import { renderProblem } from "../../../core/config/errors.ts";
import { checkConfig } from "../../../core/config/parse.ts";
import { documentText, rollbackTarget } from "../../../core/config/store.ts";
import { summarizeConfig } from "../../../core/config/summary.ts";
import { explainRequest } from "../../../core/explain/index.ts";
import { liveConfig } from "../config-source/live.ts";
import type { Env } from "../env.ts";
import { errorBody, ProxyError, toProxyError } from "../errors.ts";
import { currentSnapshot } from "../observe/batcher.ts";
import { renderPrometheus } from "../observe/metrics.ts";
import { runtimeFor } from "../runtime.ts";
import { bearerToken, tokenMatches } from "./auth.ts";
import {
  earlierVersion,
  readKvState,
  readVersion,
  removeLiveDocument,
  writeVersion,
} from "./config-store.ts";
import { dashboardPage } from "./dashboard.ts";
import { type HealthReader, healthView } from "./health.ts";
import { operatorAction } from "./operator.ts";
import { wafExplainer } from "./waf-explain.ts";

export type AdminEnv = { Bindings: Env; Variables: { requestId: string; prefix: string } };

/** Header the admin stage uses to hand the outer request's id to this app. */
export const REQUEST_ID_HEADER = "x-switchyard-admin-request-id";
export const PREFIX_HEADER = "x-switchyard-admin-prefix";

const JSON_TYPE = "application/json; charset=utf-8";

/** FNV-1a of the document text: the ETag changes whenever the served document does, KV or vars. */
function etagOf(version: number, text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return `"${version}-${(h >>> 0).toString(16)}"`;
}

function parseDocument(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ProxyError("SY_CONFIG_REJECTED", "the config is not valid JSON; nothing was changed", {
      details: { problems: [`the body is not valid JSON: ${(e as Error).message}`] },
    });
  }
}

function requireKv(env: Env): KVNamespace {
  if (!env.SWITCHYARD_KV) {
    throw new ProxyError(
      "SY_ADMIN_NO_KV",
      "this worker has no SWITCHYARD_KV binding, so its config can only change by deploying wrangler.toml; add a [[kv_namespaces]] binding named SWITCHYARD_KV",
    );
  }
  return env.SWITCHYARD_KV;
}

/** The live document parsed back, or undefined when nothing valid is served. */
function liveDocument(env: Env): { doc: unknown; version: number } | undefined {
  try {
    const loaded = liveConfig(env).loaded(env);
    return { doc: JSON.parse(loaded.text), version: loaded.version };
  } catch {
    return undefined;
  }
}

export interface AdminOptions {
  /** What GET /health, /explain and the dashboard know of checks, ejections and panic mode. */
  healthReader?: HealthReader;
}

export function createAdminApp({ healthReader }: AdminOptions = {}) {
  const admin = new Hono<AdminEnv>();

  admin.onError((err, c) => {
    const error = toProxyError(err);
    const requestId = c.get("requestId") ?? "";
    if (error.code === "SY_INTERNAL") {
      console.error(JSON.stringify({ level: "error", request_id: requestId, msg: String(error.cause) }));
    }
    const headers: Record<string, string> = { "content-type": JSON_TYPE };
    if (error.code === "SY_ADMIN_UNAUTHORIZED") headers["www-authenticate"] = 'Bearer realm="switchyard"';
    return new Response(JSON.stringify(errorBody(error, requestId)), { status: error.status, headers });
  });

  admin.use(async function adminAuth(c, next) {
    c.set("requestId", c.req.header(REQUEST_ID_HEADER) ?? "");
    c.set("prefix", c.req.header(PREFIX_HEADER) ?? DEFAULTS.admin.prefix);
    const expected = c.env?.ADMIN_TOKEN;
    if (!expected) {
      throw new ProxyError(
        "SY_ADMIN_DISABLED",
        "the admin API is disabled: set the ADMIN_TOKEN secret (wrangler secret put ADMIN_TOKEN) to open it",
      );
    }
    // The page itself holds no data; everything it shows comes from the API with the token.
    if (c.req.method === "GET" && c.req.path === "/") return next();
    const given = bearerToken(c.req.header("authorization"));
    if (given === undefined || !(await tokenMatches(given, expected))) {
      throw new ProxyError(
        "SY_ADMIN_UNAUTHORIZED",
        "the admin API needs the header Authorization: Bearer <ADMIN_TOKEN>",
      );
    }
    await next();
    c.header("cache-control", "no-store");
  });

  admin.get("/", async (c) => {
    const page = await dashboardPage(c.env?.ASSETS, c.req.url, c.get("prefix"));
    return new Response(page.body, {
      headers: {
        "content-type": "text/html; charset=utf-8",
        // The page's own inline script and style, and calls back to this worker only.
        "content-security-policy":
          "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        "referrer-policy": "no-referrer",
        "x-content-type-options": "nosniff",
        "cache-control": "no-store",
      },
    });
  });

  admin.get("/config", (c) => {
    const loaded = liveConfig(c.env).loaded(c.env);
    const etag = etagOf(loaded.version, loaded.text);
    const headers = {
      etag,
      "x-switchyard-config-version": String(loaded.version),
      "x-switchyard-config-source": loaded.version === 0 ? "vars" : "kv",
    };
    if (c.req.header("if-none-match") === etag) return c.body(null, 304, headers);
    return c.body(loaded.text, 200, { ...headers, "content-type": JSON_TYPE });
  });

  admin.get("/config/status", async (c) => {
    const live = liveConfig(c.env);
    const status = live.status(c.env);
    const history = c.env.SWITCHYARD_KV ? (await readKvState(c.env.SWITCHYARD_KV)).history : [];
    let problems: string[] | undefined;
    try {
      live.loaded(c.env);
    } catch (e) {
      problems = [toProxyError(e).message];
    }
    return c.json({ ...status, history, serving_error: problems });
  });

  admin.post("/config/validate", async (c) => {
    const doc = parseDocument(await c.req.text());
    const { config, problems, warnings } = checkConfig(doc);
    const live = liveDocument(c.env);
    const changes: Change[] = live ? diffConfig(live.doc, doc) : [];
    return c.json(
      {
        valid: config !== undefined,
        problems: problems.map(renderProblem),
        warnings: warnings.map(renderProblem),
        changes,
        summary: config ? summarizeConfig(config) : undefined,
      },
      config ? 200 : 422,
    );
  });

  admin.put("/config", async (c) => {
    const kv = requireKv(c.env);
    const doc = parseDocument(await c.req.text());
    const { config, problems, warnings } = checkConfig(doc);
    if (!config) {
      const lines = problems.map(renderProblem);
      throw new ProxyError(
        "SY_CONFIG_REJECTED",
        `the config has ${lines.length} problem${lines.length === 1 ? "" : "s"}; nothing was changed`,
        { details: { problems: lines } },
      );
    }
    const state = await readKvState(kv);
    const ifMatch = c.req.header("if-match");
    if (ifMatch !== undefined) {
      const loaded = liveConfig(c.env).loaded(c.env);
      if (ifMatch !== etagOf(loaded.version, loaded.text) && ifMatch !== `"${state.live}"`) {
        throw new ProxyError(
          "SY_CONFIG_CONFLICT",
          `the live config changed since you read it (now version ${state.live}); GET /config again and retry`,
        );
      }
    }
    const before = liveDocument(c.env);
    const text = documentText(doc);
    const plan = await writeVersion(kv, text, state, config.admin.history, "admin-api");
    liveConfig(c.env).apply(text, plan.record);
    return c.json({
      version: plan.record.version,
      updated_at: plan.record.updated_at,
      warnings: warnings.map(renderProblem),
      changes: before ? diffConfig(before.doc, doc) : [],
    });
  });

  admin.post("/config/rollback", async (c) => {
    const kv = requireKv(c.env);
    const body = (await c.req.text()).trim();
    const wanted = body ? (parseDocument(body) as { version?: unknown }).version : undefined;
    if (wanted !== undefined && !Number.isInteger(wanted)) {
      throw new ProxyError("SY_ADMIN_BAD_REQUEST", 'the body must be empty or { "version": <number> }');
    }
    const state = await readKvState(kv);
    // Version 0 is wrangler.toml's config: the one before the first write, reached by removing the KV document.
    if (wanted === 0 || (wanted === undefined && state.live > 0 && !earlierVersion(state))) {
      runtimeFor(c.env.SWITCHYARD); // throws the vars config's own error when it cannot serve
      await removeLiveDocument(kv);
      liveConfig(c.env).useVars();
      return c.json({ version: 0, restored: 0, applied: true });
    }
    const target = rollbackTarget(state.history, state.live, wanted as number | undefined);
    const text = target ? await readVersion(kv, target.version) : null;
    if (!target || text === null) {
      const kept = state.history.map((r) => r.version).join(", ") || "none";
      throw new ProxyError(
        "SY_CONFIG_VERSION_NOT_FOUND",
        wanted === undefined
          ? `there is no earlier version to roll back to (kept versions: ${kept})`
          : `version ${wanted} is not kept any more (kept versions: ${kept})`,
      );
    }
    const { config } = checkConfig(text);
    const keep = config?.admin.history ?? DEFAULTS.admin.history;
    const plan = await writeVersion(kv, text, state, keep, `rollback to ${target.version}`);
    const applied = liveConfig(c.env).apply(text, plan.record);
    return c.json({
      version: plan.record.version,
      restored: target.version,
      updated_at: plan.record.updated_at,
      applied: applied.ok,
    });
  });

  admin.get("/explain", async (c) => {
    const target = c.req.query("url");
    if (!target) {
      throw new ProxyError(
        "SY_ADMIN_BAD_REQUEST",
        "explain needs ?url=<absolute URL>, and optionally method=, header=name:value (repeatable) and ip=",
      );
    }
    try {
      new URL(target);
    } catch {
      throw new ProxyError("SY_ADMIN_BAD_REQUEST", `url ${JSON.stringify(target)} is not an absolute URL`);
    }
    const headers = (c.req.queries("header") ?? []).map((h): [string, string] => {
      const colon = h.indexOf(":");
      if (colon <= 0)
        throw new ProxyError("SY_ADMIN_BAD_REQUEST", `header ${JSON.stringify(h)} is not name:value`);
      return [h.slice(0, colon), h.slice(colon + 1)];
    });
    const { runtime } = liveConfig(c.env).loaded(c.env);
    const health = await healthView(c.env, runtime, healthReader);
    const byBackend = new Map(
      health.flatMap((s) =>
        s.backends.map((b) => {
          const down = b.active.state === "unhealthy" || b.passive.state === "ejected";
          const reason = down
            ? b.active.state === "unhealthy"
              ? b.active.reason
              : b.passive.reason
            : b.active.reason;
          return [`${s.service}\u0001${b.url}`, { healthy: !down, reason }] as const;
        }),
      ),
    );
    const explanation = explainRequest(
      runtime.config,
      { method: c.req.query("method") ?? "GET", url: target, headers, clientIp: c.req.query("ip") },
      {
        table: runtime.routes,
        health: (service, url) => byBackend.get(`${service}\u0001${url}`),
        waf: wafExplainer(runtime.waf),
      },
    );
    return c.json(explanation);
  });

  admin.get("/health", async (c) => {
    const { runtime } = liveConfig(c.env).loaded(c.env);
    return c.json({ services: await healthView(c.env, runtime, healthReader) });
  });

  admin.post("/actions", async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new ProxyError("SY_ADMIN_BAD_REQUEST", "the body is not JSON");
    }
    const { runtime } = liveConfig(c.env).loaded(c.env);
    return c.json(await operatorAction(c.env, runtime, body));
  });

  admin.get("/metrics", async (c) => {
    const snapshot = await currentSnapshot(c.env);
    return c.body(renderPrometheus(snapshot), 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
    });
  });

  admin.get("/stats", async (c) => {
    const live = liveConfig(c.env);
    const status = live.status(c.env);
    let routes: { name: string; target: string; match: string }[] = [];
    let services: Awaited<ReturnType<typeof healthView>> = [];
    try {
      const { runtime } = live.loaded(c.env);
      routes = runtime.config.routes.map((r) => ({
        name: r.name,
        match: r.match
          .map((m) => {
            const hosts = m.host === undefined ? "*" : [m.host].flat().join(",");
            const p = m.path;
            return `${hosts}${p?.exact ?? p?.template ?? (p?.regex !== undefined ? `~${p.regex}` : `${p?.prefix ?? "/"}…`)}`;
          })
          .join(" | "),
        target:
          r.service ??
          (r.split
            ? r.split.map((s) => `${s.service}:${s.weight}`).join(" + ")
            : r.redirect
              ? "redirect"
              : "respond"),
      }));
      services = await healthView(c.env, runtime, healthReader);
    } catch {
      // An invalid config still gets a dashboard: status.last_error says what is wrong.
    }
    return c.json({ config: status, routes, services, metrics: await currentSnapshot(c.env) });
  });

  return admin;
}
