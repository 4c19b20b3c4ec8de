// Compiler: a checked syntax tree → nested closures. Regexes, wildcards and sets are built here, once;
// evaluating a rule per request only calls closures and reads cached request fields.
import type { CompareOp, Expr, Literal } from "./ast.ts";
import { isLiteral } from "./ast.ts";
import { type Info, resolveField } from "./check.ts";
import { RuleError } from "./errors.ts";
import { FIELDS } from "./fields.ts";
import { type Ip, IpSet, ipEquals, parseIp, parseIpRange } from "./ip.ts";
import type { RequestFields } from "./request.ts";
import { asciiLower, asciiUpper, compileRegex, compileWildcard, urlDecode, utf8Length } from "./text.ts";

/** `undefined` is a missing value (an absent header, an index out of range). */
type Fn = (f: RequestFields) => unknown;
type Test = (v: unknown) => boolean;

export function compile(root: Expr, infos: Map<Expr, Info>, src: string): (f: RequestFields) => boolean {
  const fail = (msg: string, at: { start: number }): never => {
    throw new RuleError("type", msg, src, at.start);
  };

  const constant = (lit: Literal): Fn => {
    const v = lit.kind === "string" ? lit.value : lit.kind === "int" ? lit.value : undefined;
    return () => v;
  };

  const comparison = (op: CompareOp, lit: Literal): Test => {
    if (lit.kind === "ip") {
      const want = parseIp(lit.text) ?? fail(`"${lit.text}" is not an IP address`, lit);
      return op === "eq"
        ? (v) => v !== undefined && ipEquals(v as Ip, want)
        : (v) => v !== undefined && !ipEquals(v as Ip, want);
    }
    if (lit.kind === "int") {
      const n = lit.value;
      switch (op) {
        case "eq":
          return (v) => v === n;
        case "ne":
          return (v) => v !== undefined && v !== n;
        case "lt":
          return (v) => v !== undefined && (v as number) < n;
        case "le":
          return (v) => v !== undefined && (v as number) <= n;
        case "gt":
          return (v) => v !== undefined && (v as number) > n;
        case "ge":
          return (v) => v !== undefined && (v as number) >= n;
      }
    }
    if (lit.kind !== "string") return fail("unexpected literal", lit);
    const s = lit.value;
    switch (op) {
      case "eq":
        return (v) => v === s;
      case "ne":
        return (v) => v !== undefined && v !== s;
      case "lt":
        return (v) => v !== undefined && (v as string) < s;
      case "le":
        return (v) => v !== undefined && (v as string) <= s;
      case "gt":
        return (v) => v !== undefined && (v as string) > s;
      case "ge":
        return (v) => v !== undefined && (v as string) >= s;
      case "contains":
        return (v) => v !== undefined && (v as string).includes(s);
      case "matches": {
        const re = compileRegex(lit.regexSource);
        if (typeof re === "string") return fail(re, lit);
        return (v) => v !== undefined && re.test(v as string);
      }
      case "wildcard":
      case "strict wildcard": {
        const m = compileWildcard(s, op === "strict wildcard");
        if (typeof m === "string") return fail(m, lit);
        return (v) => v !== undefined && m(v as string);
      }
    }
  };

  const membership = (items: Literal[], kind: string): Test => {
    if (kind === "string") {
      const set = new Set(items.map((i) => (i as { value: string }).value));
      return (v) => v !== undefined && set.has(v as string);
    }
    if (kind === "int") {
      const singles = new Set<number>();
      const ranges: Array<[number, number]> = [];
      for (const i of items) {
        if (i.kind === "int") singles.add(i.value);
        else if (i.kind === "intRange") ranges.push([i.lo, i.hi]);
      }
      return (v) => {
        if (typeof v !== "number") return false;
        if (singles.has(v)) return true;
        for (const [lo, hi] of ranges) if (v >= lo && v <= hi) return true;
        return false;
      };
    }
    const ranges = items.map((i) => {
      const r = parseIpRange((i as { text: string }).text);
      return typeof r === "string" ? fail(r, i) : r;
    });
    const set = IpSet.fromRanges(ranges);
    return (v) => v !== undefined && set.has(v as Ip);
  };

  /** Applies `test` to a value, or to each element when the operand was unpacked with [*]. */
  const applyTest = (left: Expr, test: Test): Fn => {
    const l = build(left);
    if (!infos.get(left)!.each) return (f) => test(l(f));
    return (f) => {
      const arr = l(f) as unknown[] | undefined;
      return arr === undefined ? undefined : arr.map(test);
    };
  };

  const build = (n: Expr): Fn => {
    switch (n.kind) {
      case "field":
        return FIELDS[resolveField(n.name)]!.read;
      case "index": {
        const target = build(n.target);
        const key = n.key;
        if (typeof key === "string")
          return (f) => (target(f) as ReadonlyMap<string, unknown> | undefined)?.get(key);
        return (f) => (target(f) as unknown[] | undefined)?.[key];
      }
      case "unpack":
        return build(n.target);
      case "compare":
        return applyTest(n.left, comparison(n.op, n.right));
      case "in":
        return applyTest(n.left, membership(n.items, infos.get(n.left)!.type.k));
      case "not": {
        const o = build(n.operand);
        if (infos.get(n)!.type.k === "array") {
          return (f) => (o(f) as boolean[] | undefined)?.map((b) => !b);
        }
        return (f) => !o(f);
      }
      case "logic": {
        const l = build(n.left);
        const r = build(n.right);
        if (n.op === "and") return (f) => l(f) === true && r(f) === true;
        if (n.op === "or") return (f) => l(f) === true || r(f) === true;
        return (f) => (l(f) === true) !== (r(f) === true);
      }
      case "call":
        return call(n);
    }
  };

  const arg = (a: Expr | Literal): Fn => (isLiteral(a) ? constant(a) : build(a));

  const call = (n: Extract<Expr, { kind: "call" }>): Fn => {
    const args = n.args.map(arg);
    const first = args[0]!;
    const each = !isLiteral(n.args[0]!) && infos.get(n.args[0] as Expr)!.each;
    /** One-argument-after-the-first functions, mapped over elements when the first is unpacked. */
    const lift = (fn: (v: unknown, f: RequestFields) => unknown): Fn => {
      if (!each)
        return (f) => {
          const v = first(f);
          return v === undefined ? undefined : fn(v, f);
        };
      return (f) => {
        const arr = first(f) as unknown[] | undefined;
        return arr?.map((v) => fn(v, f));
      };
    };
    switch (n.name) {
      case "lower":
        return lift((v) => asciiLower(v as string));
      case "upper":
        return lift((v) => asciiUpper(v as string));
      case "len":
        return lift((v) => (typeof v === "string" ? utf8Length(v) : (v as unknown[]).length));
      case "starts_with":
      case "ends_with": {
        const sub = args[1]!;
        const starts = n.name === "starts_with";
        return lift((v, f) => {
          const s = sub(f);
          return (
            s !== undefined &&
            (starts ? (v as string).startsWith(s as string) : (v as string).endsWith(s as string))
          );
        });
      }
      case "url_decode": {
        const opt = n.args[1] ? (n.args[1] as { value: string }).value : "";
        return lift((v) => urlDecode(v as string, opt));
      }
      case "any":
        return (f) => {
          const arr = first(f) as boolean[] | undefined;
          return arr?.some((b) => b === true) === true;
        };
      case "all":
        return (f) => {
          const arr = first(f) as boolean[] | undefined;
          return arr?.every((b) => b === true) === true;
        };
      case "concat": {
        const isString = infos.get(n)!.type.k === "string";
        return (f) => {
          const vals = args.map((a) => a(f));
          if (vals.some((v) => v === undefined)) return undefined;
          return isString ? vals.join("") : (vals as unknown[][]).flat(1);
        };
      }
    }
    return fail(`unknown function ${n.name}()`, n);
  };

  const top = build(root);
  return (f) => top(f) === true;
}
