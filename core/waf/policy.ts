// The WAF compiled from a config: one engine per policy and per route override, built once per config and
// looked up per request.
import type { Config, WafManagedOverride } from "../config/schema/index.ts";
import {
  type CompiledCustomRule,
  compileCustomRules,
  type ManagedSettings,
  WafPolicyEngine,
} from "./engine.ts";
import { type ProtocolPolicy, protocolPolicy } from "./protocol.ts";

export interface CompiledWaf {
  explainHeader: boolean;
  /** Bytes of body to inspect; 0 turns body inspection off. */
  bodyLimit: number;
  /** Allowed methods, content types and charsets for the protocol checks. */
  protocol: ProtocolPolicy;
  /** The engine for a route (by index in config.routes), or undefined when the route has no WAF. */
  forRoute(index: number | undefined): WafPolicyEngine | undefined;
}

function override(base: ManagedSettings, o: WafManagedOverride | undefined): ManagedSettings {
  if (!o) return base;
  const pick = <K extends keyof WafManagedOverride>(k: K) => (o[k] === undefined ? {} : { [k]: o[k] });
  return {
    ...base,
    ...pick("enabled"),
    ...pick("paranoia"),
    ...pick("threshold"),
    ...pick("mode"),
    ...pick("disabled_rules"),
    ...pick("oversize"),
  } as ManagedSettings;
}

export function compileWaf(config: Config): CompiledWaf {
  const waf = config.waf;
  const m = waf.managed;
  const base: ManagedSettings = {
    enabled: m.enabled,
    paranoia: m.paranoia,
    threshold: m.threshold,
    mode: m.mode,
    disabled_rules: m.disabled_rules,
    max_args: m.max_args,
    oversize: m.oversize,
  };
  const global = new WafPolicyEngine(compileCustomRules(waf.rules, "waf.rules"), base);
  const policies = new Map<
    string,
    { custom: CompiledCustomRule[]; managed: ManagedSettings; engine: WafPolicyEngine }
  >();
  waf.policies.forEach((p, i) => {
    const custom = compileCustomRules(p.rules, `waf.policies[${i}].rules`);
    const managed = override(base, p.managed);
    policies.set(p.name, { custom, managed, engine: new WafPolicyEngine(custom, managed) });
  });
  const perRoute: Array<WafPolicyEngine | undefined> = config.routes.map((r) => {
    const rw = r.waf;
    if (!rw) return global;
    if (rw.policy === "none") return undefined;
    const chosen = rw.policy && rw.policy !== "global" ? policies.get(rw.policy) : undefined;
    const custom = chosen?.custom ?? global.custom;
    const managed = chosen?.managed ?? base;
    const { policy: _policy, ...overrides } = rw;
    const hasOverride = Object.values(overrides).some((v) => v !== undefined);
    if (!hasOverride) return chosen?.engine ?? global;
    return new WafPolicyEngine(custom, override(managed, overrides));
  });
  return {
    explainHeader: waf.explain_header,
    bodyLimit: m.body_limit,
    protocol: protocolPolicy(m),
    forRoute: (index) => (index === undefined ? global : perRoute[index]),
  };
}
