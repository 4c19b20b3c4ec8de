// POST /actions: an operator drains a backend, puts it in maintenance or readies it (core/health/operator.ts).
// The state lives in the service's HealthChecker object, so every isolate's selection sees it with its next
// health snapshot (within the 2 s cache); the isolate that served the call uses the object's answer at once.
import { isOperatorState, operatorStateProblem } from "../../../core/health/operator.ts";
import type { Env } from "../env.ts";
import { ProxyError } from "../errors.ts";
import { healthSpec } from "../resilience/health-spec.ts";
import type { Runtime } from "../runtime.ts";

export interface OperatorActionResult {
  changes: { service: string; backend: string; from: string; to: string }[];
}

/** `body`: { service, backend: URL or URLs as the config writes them, state: ready | drain | maint }. */
export async function operatorAction(
  env: Env,
  runtime: Runtime,
  body: unknown,
): Promise<OperatorActionResult> {
  const { service: name, backend, state } = (body ?? {}) as Record<string, unknown>;
  const given = Array.isArray(backend) ? backend : backend === undefined ? [] : [backend];
  if (typeof name !== "string" || given.length === 0 || !given.every((b) => typeof b === "string"))
    throw new ProxyError(
      "SY_ADMIN_BAD_REQUEST",
      'the body must be { "service": name, "backend": url or [urls], "state": "drain" | "maint" | "ready" }',
    );
  if (!isOperatorState(state)) throw new ProxyError("SY_ADMIN_BAD_REQUEST", operatorStateProblem(state));
  const service = runtime.config.services.find((s) => s.name === name);
  const spec = service && healthSpec(service);
  if (!spec)
    throw new ProxyError("SY_ADMIN_NOT_FOUND", `no service named ${JSON.stringify(name)} with URL backends`);
  const urls = given.map((b) => {
    let href: string | undefined;
    try {
      href = new URL(b as string).href;
    } catch {}
    if (href === undefined || !spec.backends.includes(href))
      throw new ProxyError(
        "SY_ADMIN_NOT_FOUND",
        `service ${JSON.stringify(name)} has no backend ${JSON.stringify(b)} (it has ${spec.backends.join(", ")})`,
      );
    return href;
  });
  const ns = env.HEALTH_CHECKER;
  if (!ns)
    throw new ProxyError(
      "SY_ADMIN_NO_HEALTH_OBJECT",
      "this worker has no HEALTH_CHECKER Durable Object binding, where operator states are kept; add it as wrangler.toml in this repository does",
    );
  const { changes, snapshot } = await ns.get(ns.idFromName(spec.service)).setOperator(spec, urls, state);
  runtime.services.get(spec.service)?.resilience.shared?.adopt(snapshot, Date.now());
  return { changes: changes.map((c) => ({ service: spec.service, ...c })) };
}
