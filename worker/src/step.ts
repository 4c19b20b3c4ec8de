// What a route's request plan is made of: steps compiled once per config (app.ts says which, in which order),
// each with an optional part before the answer and one on it, and the step that produces the answer.
import type { RequestContext } from "./context.ts";
import type { Env } from "./env.ts";
import type { LimiterNamespace } from "./rate-limit/client.ts";

/** What the app was created with: the seams tests use (upstream fetch, clock, rate-limiter namespace). */
export interface Deps {
  fetcher: typeof fetch;
  now: () => number;
  rateLimiter: (env: Env) => LimiterNamespace | undefined;
}

/** What a request comes with besides its RequestContext: the request, the bindings, where background work goes. */
export interface Ctx {
  readonly req: Request;
  readonly env: Env;
  /** ctx.waitUntil; undefined when the app is called without an execution context (app.fetch in tests). */
  readonly waitUntil: ((p: Promise<unknown>) => void) | undefined;
  /** The execution context workerd passed (the admin app is handed it). */
  readonly executionCtx: ExecutionContext | undefined;
}

export interface Step {
  /** For tests and the profile: which steps a route runs. */
  readonly name: string;
  /** Before the answer; a Response ends the request there (later steps and the answer are skipped). */
  readonly before?: (c: Ctx, sy: RequestContext, deps: Deps) => Promise<Response | undefined>;
  /**
   * On the answer, innermost step first, for every step whose `before` let the request through. `own`: the
   * answer is an error Switchyard generated (a thrown ProxyError), not the backend's or the route's.
   * Returns the response to go on with. A step that writes headers writes them into writableResponse(sy, res):
   * a backend's response may come as it was fetched, with immutable headers.
   */
  readonly after?: (c: Ctx, sy: RequestContext, res: Response, own: boolean) => Response;
}

/**
 * `res` with headers that may be written: `res` itself, or (once per request) a copy of the backend's response
 * the proxy passed on uncopied (sy.uncopied), whose headers are immutable.
 */
export function writableResponse(sy: RequestContext, res: Response): Response {
  if (sy.uncopied !== res) return res;
  sy.uncopied = undefined;
  return new Response(res.body, res);
}

/** The step that answers: the proxy loop, a redirect or a direct response. */
export type Answer = (c: Ctx, sy: RequestContext, deps: Deps) => Promise<Response> | Response;

export interface Steps {
  readonly steps: readonly Step[];
  readonly answer: Answer;
  /** Step names in order, the answer last (e.g. ["waf", "rate-limit", "respond", "proxy"]). */
  readonly names: readonly string[];
}

/**
 * Runs a route's steps. `render` turns a thrown error into the response the `after` parts then see; the error
 * is not rethrown, as Hono's compose does with an onError handler.
 */
export async function runSteps(
  plan: Steps,
  c: Ctx,
  sy: RequestContext,
  deps: Deps,
  render: (err: unknown, sy: RequestContext) => Response,
): Promise<Response> {
  const steps = plan.steps;
  let through = 0;
  let res: Response | undefined;
  let own = false;
  try {
    for (; through < steps.length; through++) {
      const before = steps[through]!.before;
      if (before === undefined) continue;
      res = await before(c, sy, deps);
      if (res !== undefined) break;
    }
    if (res === undefined) res = await plan.answer(c, sy, deps);
  } catch (err) {
    res = render(err, sy);
    own = true;
  }
  for (let i = through - 1; i >= 0; i--) {
    const after = steps[i]!.after;
    if (after !== undefined) res = after(c, sy, res, own);
  }
  return res;
}
