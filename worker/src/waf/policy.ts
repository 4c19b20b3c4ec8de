// The WAF compiled from a config, cached per config object (a WeakMap keyed by the frozen Config, so it lives
// as long as the isolate's runtime). The compilation itself is runtime-neutral, in core/waf/policy.ts.
import type { Config } from "../../../core/config/schema/index.ts";
import { type CompiledWaf, compileWaf } from "../../../core/waf/policy.ts";

const cache = new WeakMap<object, CompiledWaf>();

export function wafFor(config: Config): CompiledWaf {
  let w = cache.get(config);
  if (!w) {
    w = compileWaf(config);
    cache.set(config, w);
  }
  return w;
}
