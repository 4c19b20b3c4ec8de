// The rules language: a compatible subset of Cloudflare's Rules language, compiled once at config load.
// Used by WAF rules, route `when` clauses, rate-limit keys and the sidecar's allow/deny lists.
import { check } from "./check.ts";
import { compile } from "./compile.ts";
import { RuleError } from "./errors.ts";
import { FIELDS } from "./fields.ts";
import { parse } from "./parser.ts";
import { RequestFields, type RuleRequest } from "./request.ts";

export { RuleError } from "./errors.ts";
export { FIELD_ALIASES, FIELDS } from "./fields.ts";
export { formatIp, type Ip, IpSet, IpSetError, parseIp, parseIpRange } from "./ip.ts";
export {
  type FetchLikeRequest,
  RequestFields,
  type RuleHeaders,
  type RuleRequest,
  ruleRequestFrom,
} from "./request.ts";
export { asciiLower, compileWildcard, urlDecode } from "./text.ts";

/** Where an expression runs: the worker sees the whole request; the L4 sidecar only the client address. */
export type RuleScope = "http" | "l4";

export interface CompileOptions {
  /** How the config names this rule, for error messages (e.g. `waf.rules[2]` or `block-admin`). */
  name?: string;
  scope?: RuleScope;
}

export interface CompiledExpression {
  readonly expression: string;
  /** True when the request matches. Pass one RequestFields per request to every rule so fields are read once. */
  test(fields: RequestFields): boolean;
  /** Convenience for one-off checks: builds the fields view for this request alone. */
  matches(req: RuleRequest): boolean;
}

/** Lexes, parses, type-checks and compiles. Throws RuleError (syntax or type) naming the rule and column. */
export function compileExpression(expression: string, opts: CompileOptions = {}): CompiledExpression {
  try {
    const tree = parse(expression);
    const infos = check(
      tree,
      expression,
      opts.scope === "l4"
        ? {
            allowField: (n) => FIELDS[n]?.l4 === true,
            fieldScope: "in the L4 sidecar, which sees only ip.src",
          }
        : {},
    );
    const test = compile(tree, infos, expression);
    return { expression, test, matches: (req) => test(new RequestFields(req)) };
  } catch (e) {
    if (e instanceof RuleError && opts.name) throw e.withRule(opts.name);
    throw e;
  }
}

/** Like compileExpression, but returns the error instead of throwing: for config validation. */
export function tryCompileExpression(
  expression: string,
  opts: CompileOptions = {},
): { ok: true; value: CompiledExpression } | { ok: false; error: RuleError } {
  try {
    return { ok: true, value: compileExpression(expression, opts) };
  } catch (e) {
    if (e instanceof RuleError) return { ok: false, error: e };
    throw e;
  }
}
