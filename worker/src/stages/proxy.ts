// The proxy loop: select → prepare → forward, once per backend at most, until one answers.
//   select   the service's balancer picks a backend not tried yet in this request
//   prepare  the upstream URL and headers (X-Forwarded-*, no hop-by-hop)
//   forward  fetch with redirects left to the client; the body streams both ways
// A failure is retried on the next backend only when it is safe (errors carry `retryable`, see classify).
import type { Context } from "hono";
import type { AppEnv } from "../context.ts";
import { ProxyError } from "../errors.ts";
import { ReplayableBody } from "../proxy/body.ts";
import { classifyConnectStatus, classifyThrown, type Failure } from "../proxy/classify.ts";
import { downstreamResponseHeaders, upstreamRequestHeaders, upstreamUrl } from "../proxy/headers.ts";

export interface ProxyOptions {
  /** The upstream fetch; injectable so a unit test can play the backend (integration tests use real servers). */
  fetcher?: typeof fetch;
}

export function proxy({ fetcher = (input, init) => fetch(input, init) }: ProxyOptions = {}) {
  return async function proxyStage(c: Context<AppEnv>): Promise<Response> {
    const sy = c.var.sy;
    const pool = sy.service!;
    const req = c.req.raw;
    const url = new URL(req.url);
    const body = new ReplayableBody(req.body);
    const headers = upstreamRequestHeaders(req.headers, {
      clientIp: sy.clientIp,
      proto: url.protocol.slice(0, -1),
      host: req.headers.get("host") ?? url.host,
    });
    const tried = new Set<number>();
    let last: ProxyError | undefined;

    while (tried.size < pool.backends.length) {
      const index = pool.selector.select(undefined, (i) => !tried.has(i));
      if (index === undefined) break;
      tried.add(index);
      const backend = pool.backends[index]!;
      const target = upstreamUrl(backend.url, url.pathname, url.search);
      const started = Date.now();
      pool.selector.onStart?.(index);
      let failure: Failure | undefined;
      try {
        const res = await fetcher(target, {
          method: req.method,
          headers,
          body: body.stream(),
          redirect: "manual",
        });
        failure = classifyConnectStatus(res.status, body);
        if (!failure || tried.size === pool.backends.length) {
          sy.attempts.push({
            backend: backend.url.href,
            outcome: "response",
            status: res.status,
            ms: Date.now() - started,
          });
          return new Response(res.body, {
            status: res.status,
            statusText: res.statusText,
            headers: downstreamResponseHeaders(res.headers),
          });
        }
        await res.body?.cancel();
      } catch (e) {
        failure = classifyThrown(e, req.method, body);
      } finally {
        pool.selector.onEnd?.(index);
      }
      sy.attempts.push({ backend: backend.url.href, outcome: failure.outcome, ms: Date.now() - started });
      last = failure.error;
      if (!failure.error.retryable) throw failure.error;
    }
    if (last) {
      throw new ProxyError(
        "SY_UPSTREAM_UNAVAILABLE",
        `no backend of service "${pool.name}" could be reached (${tried.size} tried)`,
        { cause: last },
      );
    }
    throw new ProxyError(
      "SY_NO_BACKEND",
      `service "${pool.name}" has no backend available (all weights are 0)`,
    );
  };
}
