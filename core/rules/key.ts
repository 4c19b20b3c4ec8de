// Value expressions for counting keys (rate limits, hashing): a field, optionally indexed, optionally wrapped
// in lower()/upper() — `ip.src`, `http.request.headers["x-api-key"]`, `lower(http.host)`. Compiled once.
import type { Expr } from "./ast.ts";
import { resolveField } from "./check.ts";
import { RuleError } from "./errors.ts";
import { FIELDS } from "./fields.ts";
import { formatIp, type Ip, ipNetwork } from "./ip.ts";
import { parse } from "./parser.ts";
import type { RequestFields } from "./request.ts";

/** Reads the key of one request; undefined when the request has no such value (no header, no cookie). */
export type KeyFn = (fields: RequestFields) => string | undefined;

export interface KeyOptions {
  /** IPv6 addresses in a key count as their network of this length (a client holds a whole /64). Default 128. */
  ipv6Prefix?: number;
  /** IPv4 addresses likewise. Default 32. */
  ipv4Prefix?: number;
}

export function compileKeyExpression(expression: string, rule = "key", ip: KeyOptions = {}): KeyFn {
  let tree: Expr;
  try {
    tree = parse(expression);
  } catch (e) {
    if (e instanceof RuleError) throw e.withRule(rule);
    throw e;
  }
  return build(tree, expression, rule, ip);
}

function build(n: Expr, src: string, rule: string, ip: KeyOptions): KeyFn {
  const fail = (msg: string): never => {
    throw new RuleError("type", msg, src, n.start).withRule(rule);
  };
  if (n.kind === "call" && (n.name === "lower" || n.name === "upper") && n.args.length === 1) {
    const arg = n.args[0]!;
    if (arg.kind === "string" || arg.kind === "int" || arg.kind === "intRange" || arg.kind === "ip")
      return fail(`${n.name}() of a constant is not a key`);
    const inner = build(arg as Expr, src, rule, ip);
    return n.name === "lower" ? (f) => inner(f)?.toLowerCase() : (f) => inner(f)?.toUpperCase();
  }
  if (n.kind === "field") {
    const name = resolveField(n.name);
    const def = FIELDS[name] ?? fail(`unknown field ${n.name}`);
    if (def.type.k === "map" || def.type.k === "bool")
      return fail(`${n.name} is not a value a key can use; index it, e.g. ${n.name}["name"]`);
    if (def.type.k === "ip") {
      const v6 = ip.ipv6Prefix ?? 128;
      const v4 = ip.ipv4Prefix ?? 32;
      return (f) => {
        const addr = def.read(f) as Ip | undefined;
        if (!addr) return undefined;
        const prefix = addr.v6 ? v6 : v4;
        const whole = addr.v6 ? 128 : 32;
        return prefix >= whole ? formatIp(addr) : `${formatIp(ipNetwork(addr, prefix))}/${prefix}`;
      };
    }
    return (f) => stringify(def.read(f));
  }
  if (n.kind === "index" && n.target.kind === "field") {
    const name = resolveField(n.target.name);
    const def = FIELDS[name] ?? fail(`unknown field ${n.target.name}`);
    const key = n.key;
    if (def.type.k === "map") {
      const k = typeof key === "string" ? key : fail(`${n.target.name} is indexed by a name in quotes`);
      return (f) => stringify((def.read(f) as ReadonlyMap<string, unknown> | undefined)?.get(k));
    }
    if (def.type.k === "array") {
      const i = typeof key === "number" ? key : fail(`${n.target.name} is indexed by a number`);
      return (f) => stringify((def.read(f) as unknown[] | undefined)?.[i]);
    }
    return fail(`${n.target.name} cannot be indexed`);
  }
  return fail(
    'a key is a field such as ip.src or http.request.headers["x-api-key"], optionally in lower() or upper()',
  );
}

function stringify(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.length === 0 ? undefined : stringify(v[0]);
  if (typeof v === "string") return v === "" ? undefined : v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (typeof v === "object" && "v6" in (v as object)) return formatIp(v as Ip);
  return String(v);
}
