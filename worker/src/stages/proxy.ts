// The proxy loop: select → prepare → forward, each backend at most once, until one answers.
//   select   the sticky cookie's backend first (if valid), else the service's balancer, never one tried already
//   prepare  rewrite path/host, request header modifiers, X-Forwarded-*/Forwarded/X-Request-Id, no hop-by-hop
//   forward  fetch with redirects left to the client; bodies stream both ways; WebSocket upgrades pass through
// Failures are retried as the route's retry policy allows, on a backend not tried yet, only when it is safe
// (worker/src/resilience/: timeouts, budget, backoff, hedging, health filter and outlier detection).
import type { HashKey } from "../../../core/config/schema/index.ts";
import { applyHeaderModifiers, parseCookies, rewritePath } from "../../../core/routing/index.ts";
import type { RequestContext } from "../context.ts";
import { onBodyDone } from "../proxy/accounting.ts";
import { ReplayableBody } from "../proxy/body.ts";
import {
  downstreamHeaders,
  downstreamResponse,
  upstreamRequestHeaders,
  upstreamUrl,
} from "../proxy/headers.ts";
import { resilientRequest } from "../resilience/request.ts";
import type { RoutePlan, ServicePool } from "../runtime.ts";
import type { Answer } from "../step.ts";
import { affinityCookie, signAffinity, stickyKey, verifyAffinity } from "../sticky.ts";

/** Shared by every bodiless request: a ReplayableBody over null holds no state. */
const NO_BODY = new ReplayableBody(null);

const IP_HOST = /^(\d+\.\d+\.\d+\.\d+|\[[0-9a-f:.]+\])$/i;

function hashKeyOf(hash: HashKey | undefined, sy: RequestContext, url: URL): string | undefined {
  if (hash === undefined) return undefined;
  if (hash === "client-ip") return sy.clientIp || undefined;
  if ("header" in hash) return sy.headers.get(hash.header) ?? undefined;
  if ("cookie" in hash) return parseCookies(sy.headers.get("cookie")).get(hash.cookie);
  return url.searchParams.get(hash.query) ?? undefined;
}

let warnedNoSecret = false;

interface Affinity {
  key: CryptoKey;
  /** Index of the backend the client's valid cookie pins, or -1. */
  pinned: number;
}

async function affinityFor(pool: ServicePool, secret: string | undefined, sy: RequestContext, nowMs: number) {
  if (!pool.sticky) return undefined;
  if (!secret) {
    if (!warnedNoSecret) {
      warnedNoSecret = true;
      console.error(
        JSON.stringify({
          level: "error",
          msg: "sticky sessions need the STICKY_SECRET secret; serving without affinity",
        }),
      );
    }
    return undefined;
  }
  const key = await stickyKey(secret);
  const value = parseCookies(sy.headers.get("cookie")).get(pool.sticky.cookie);
  const id = await verifyAffinity(key, pool.name, value, Math.floor(nowMs / 1000));
  const pinned = id === undefined ? -1 : pool.backends.findIndex((b) => b.id === id && b.weight > 0);
  return { key, pinned } satisfies Affinity;
}

/** The proxy loop of one forwarding route; `pick` chooses its service (one, or a weighted split). */
export function proxyAnswer(plan: RoutePlan & { kind: "forward" }): Answer {
  const route = plan.route;
  const pick = plan.pick;
  const modifiers = plan.requestHeaders;
  const rewriteHost = route.rewrite?.host;
  return async function proxyStage(c, sy, { fetcher, now }): Promise<Response> {
    const target = pick();
    const pool = target.pool;
    sy.service = pool;
    const req = c.req;
    const url = sy.url;

    // prepare (once; the same request goes to whichever backend is selected)
    const path = rewritePath(
      route.forward_raw_path ? (sy.rawPath ?? url.pathname) : url.pathname,
      route.rewrite,
      sy.route!,
    );
    const search = url.search;
    const headers = upstreamRequestHeaders(sy.headers, target.forward, {
      clientIp: sy.clientIp,
      trusted: sy.trusted,
      proto: url.protocol.slice(0, -1),
      host: sy.headers.get("host") ?? url.host,
      requestId: sy.requestId,
    });
    if (modifiers) applyHeaderModifiers(headers, modifiers);
    const source = req.body;
    const resilience = resilientRequest(c, sy, target, source === null);
    const body = source === null ? NO_BODY : new ReplayableBody(source, resilience.policy.bufferBytes);
    const affinity = pool.sticky ? await affinityFor(pool, c.env.STICKY_SECRET, sy, now()) : undefined;
    const key = hashKeyOf(pool.hash, sy, url);
    const method = sy.method;

    // select → forward, retried as the route's retry policy allows (worker/src/resilience/loop.ts)
    const {
      response: res,
      index,
      attempts,
    } = await resilience.run(
      body,
      (tried, fresh) => {
        const ok = (i: number) => !tried.has(i) && resilience.accept(i);
        if (affinity && affinity.pinned >= 0 && ok(affinity.pinned)) return affinity.pinned;
        // Each retry goes to a backend not tried yet; only when none is left may one be tried again.
        return (
          pool.selector.select(key, ok) ?? (fresh ? undefined : pool.selector.select(key, resilience.accept))
        );
      },
      (i, attemptHeaders, signal) => {
        const backend = pool.backends[i]!;
        const init: RequestInit = {
          method,
          headers: attemptHeaders,
          body: body.stream(),
          redirect: "manual",
        };
        if (signal !== undefined) init.signal = signal;
        if (rewriteHost === undefined) return fetcher(upstreamUrl(backend.base, path, search), init);
        // fetch() takes the Host from the URL and ignores a Host header (see docs), so a host rewrite changes the
        // URL; in production cf.resolveOverride keeps the connection going to the backend's own name.
        const target = new URL(upstreamUrl(backend.base, path, search));
        target.hostname = rewriteHost;
        if (!IP_HOST.test(backend.url.hostname)) init.cf = { resolveOverride: backend.url.hostname };
        return fetcher(target, init);
      },
      headers,
    );
    const backend = pool.backends[index]!;
    let ended = false;
    const end = () => {
      if (!ended) {
        ended = true;
        pool.selector.onEnd?.(index);
      }
    };
    if (affinity && affinity.pinned !== index) {
      const expires = Math.floor(now() / 1000 + pool.sticky!.ttl / 1000);
      sy.setCookie = affinityCookie(
        pool.sticky!,
        await signAffinity(affinity.key, pool.name, backend.id, expires),
      );
    }
    const set = resilience.responseHeaders(sy, attempts);
    if (res.status === 101 && res.webSocket) {
      end();
      const headers = downstreamHeaders(res.headers, set);
      return new Response(null, { status: 101, webSocket: res.webSocket, headers });
    }
    // Only a balancer that counts requests in flight reads the body (res.body makes a stream object each call).
    const backendBody = pool.selector.onEnd ? res.body : null;
    const counted = backendBody ? onBodyDone(backendBody, end) : undefined;
    if (counted === undefined) end();
    const out = downstreamResponse(res, counted, set);
    if (out === res) sy.uncopied = res;
    return out;
  };
}
