// Type checker: gives every node a type, rejects what Cloudflare would reject (a string operator on an IP,
// an array compared without [0] or any(…[*]…), an unknown field), and says how to write it instead.
import type { Expr, Literal, Span } from "./ast.ts";
import { isLiteral } from "./ast.ts";
import { RuleError } from "./errors.ts";
import { aType, FIELD_ALIASES, FIELDS, sameType, T, type Type, typeName } from "./fields.ts";

/** The static result of a node. `each` means the node is unpacked with [*]: it yields one value per element. */
export interface Info {
  type: Type;
  each: boolean;
}

export interface CheckOptions {
  /** Only these fields may be used (the sidecar passes the L4 ones). Default: all. */
  allowField?: (name: string) => boolean;
  /** Why a field is not allowed, for the error message. */
  fieldScope?: string;
}

/** Functions of Cloudflare's language we know of but do not implement, so the error can say so. */
const UNSUPPORTED_FUNCTIONS = [
  "cidr",
  "cidr6",
  "decode_base64",
  "join",
  "lookup_json_integer",
  "lookup_json_string",
  "regex_replace",
  "remove_bytes",
  "remove_query_args",
  "split",
  "substring",
  "to_string",
  "uuidv4",
  "wildcard_replace",
  "is_timed_hmac_valid_v0",
];
export const FUNCTIONS = [
  "any",
  "all",
  "concat",
  "ends_with",
  "len",
  "lower",
  "starts_with",
  "upper",
  "url_decode",
];

const STRING_OPS = new Set([
  "eq",
  "ne",
  "lt",
  "le",
  "gt",
  "ge",
  "contains",
  "matches",
  "wildcard",
  "strict wildcard",
]);
const INT_OPS = new Set(["eq", "ne", "lt", "le", "gt", "ge"]);
const IP_OPS = new Set(["eq", "ne"]);

export function resolveField(name: string): string {
  return FIELD_ALIASES[name] ?? name;
}

export function check(root: Expr, src: string, opts: CheckOptions = {}): Map<Expr, Info> {
  const infos = new Map<Expr, Info>();
  const fail = (msg: string, at: Span | number): never => {
    throw new RuleError("type", msg, src, typeof at === "number" ? at : at.start);
  };
  const text = (n: Span) => src.slice(n.start, n.end);

  const visit = (n: Expr): Info => {
    const info = infer(n);
    infos.set(n, info);
    return info;
  };

  const needBool = (n: Expr, what: string): void => {
    const i = visit(n);
    if (i.type.k === "bool" && !i.each) return;
    if (i.type.k === "array" && i.type.of.k === "bool") {
      fail(
        `${what} needs true or false, but \`${text(n)}\` gives one result per element; wrap it in any(…) or all(…)`,
        n,
      );
    }
    fail(`${what} needs true or false, but \`${text(n)}\` is ${aType(i.type)}; compare it with a value`, n);
  };

  const infer = (n: Expr): Info => {
    switch (n.kind) {
      case "field": {
        const name = resolveField(n.name);
        const def = FIELDS[name];
        if (!def) {
          const known = Object.keys(FIELDS);
          const close = known.find((k) => k.endsWith(n.name) || n.name.endsWith(k.split(".").pop()!));
          const fn = FUNCTIONS.includes(n.name) ? `; ${n.name} is a function: call it like ${n.name}(…)` : "";
          fail(`unknown field "${n.name}"${fn || (close ? `; did you mean "${close}"?` : "")}`, n);
        }
        if (opts.allowField && !opts.allowField(name)) {
          fail(`the field "${n.name}" is not available ${opts.fieldScope ?? "here"}`, n);
        }
        return { type: def!.type, each: false };
      }
      case "index": {
        const t = visit(n.target);
        if (t.each) fail("cannot index an unpacked [*] value; index the array first", n.keySpan);
        if (t.type.k === "map") {
          if (typeof n.key !== "string")
            fail(`\`${text(n.target)}\` is a map: use a "name" between brackets`, n.keySpan);
          const key = String(n.key);
          if (
            n.target.kind === "field" &&
            n.target.name === "http.request.headers" &&
            key !== key.toLowerCase()
          ) {
            fail(
              `header names are lower case in http.request.headers; write ["${key.toLowerCase()}"]`,
              n.keySpan,
            );
          }
          return { type: t.type.of, each: false };
        }
        if (t.type.k === "array") {
          if (typeof n.key !== "number")
            fail(`\`${text(n.target)}\` is an array: use a number such as [0]`, n.keySpan);
          return { type: t.type.of, each: false };
        }
        return fail(`\`${text(n.target)}\` is ${aType(t.type)} and cannot be indexed with [ ]`, n.keySpan);
      }
      case "unpack": {
        const t = visit(n.target);
        if (t.each || t.type.k !== "array") {
          fail(`[*] unpacks an array, but \`${text(n.target)}\` is ${aType(t.type)}`, n);
        }
        return { type: (t.type as { of: Type }).of, each: true };
      }
      case "call":
        return inferCall(n);
      case "compare": {
        const l = visit(n.left);
        const t = l.type;
        const opText = text(n.opSpan);
        if (t.k === "array" || t.k === "map") {
          fail(
            `\`${text(n.left)}\` is ${aType(t)} and operators do not take arrays; compare one element with ` +
              `${t.k === "map" ? '["name"][0]' : "[0]"}, or every element with any(${text(n.left)}[*] ${opText} …)`,
            n.left,
          );
        }
        if (t.k === "bool") {
          fail(
            `\`${text(n.left)}\` is a Boolean: use it on its own, or with not, instead of "${opText}"`,
            n.opSpan,
          );
        }
        const allowed = t.k === "string" ? STRING_OPS : t.k === "int" ? INT_OPS : IP_OPS;
        if (!allowed.has(n.op)) {
          const hint = t.k === "ip" ? "; use eq, ne or in {…} with an IP address" : "";
          fail(`"${opText}" does not work on ${aType(t)}${hint}`, n.opSpan);
        }
        checkLiteral(t, n.right, n.op);
        return { type: l.each ? T.array(T.bool) : T.bool, each: false };
      }
      case "in": {
        const l = visit(n.left);
        const t = l.type;
        if (t.k !== "string" && t.k !== "int" && t.k !== "ip") {
          fail(`"in" needs a String, Integer or IP address on its left, not ${aType(t)}`, n.left);
        }
        for (const item of n.items) checkLiteral(t, item, "in");
        return { type: l.each ? T.array(T.bool) : T.bool, each: false };
      }
      case "not": {
        const i = visit(n.operand);
        if (i.type.k === "bool" && !i.each) return { type: T.bool, each: false };
        if (i.type.k === "array" && i.type.of.k === "bool" && !i.each) return i;
        return fail(`"not" needs true or false, but \`${text(n.operand)}\` is ${aType(i.type)}`, n.operand);
      }
      case "logic":
        needBool(n.left, `"${text(n.opSpan)}"`);
        needBool(n.right, `"${text(n.opSpan)}"`);
        return { type: T.bool, each: false };
    }
  };

  const checkLiteral = (t: Type, lit: Literal, op: string): void => {
    const want = typeName(t);
    if (t.k === "string" && lit.kind !== "string") {
      fail(`expected a string in double quotes to compare with a String, found ${text(lit)}`, lit);
    }
    if (t.k === "int" && lit.kind !== "int" && !(lit.kind === "intRange" && op === "in")) {
      fail(`expected a whole number to compare with an Integer, found ${text(lit)}`, lit);
    }
    if (t.k === "ip") {
      if (lit.kind !== "ip")
        fail(`expected an IP address (no quotes) to compare with ${want}, found ${text(lit)}`, lit);
      if (op !== "in" && !(lit as { single: boolean }).single) {
        fail(`CIDRs and ranges only work in sets: write \`in {${text(lit)}}\``, lit);
      }
    }
  };

  const inferCall = (n: Extract<Expr, { kind: "call" }>): Info => {
    if (!FUNCTIONS.includes(n.name)) {
      if (UNSUPPORTED_FUNCTIONS.includes(n.name))
        fail(`the function ${n.name}() is not supported by Switchyard`, n);
      fail(`unknown function ${n.name}(); available: ${FUNCTIONS.join(", ")}`, n);
    }
    const args = n.args.map((a, i) => {
      if (isLiteral(a))
        return { type: a.kind === "string" ? T.string : a.kind === "int" ? T.int : T.ip, each: false };
      const info = visit(a);
      if (info.each && i > 0) fail("[*] can only be used in the first argument of a function", a);
      return info;
    });
    const arity = (min: number, max: number) => {
      if (args.length < min || args.length > max) {
        const want = min === max ? `${min}` : `${min} or ${max}`;
        fail(`${n.name}() takes ${want} argument${max === 1 ? "" : "s"}, not ${args.length}`, n);
      }
    };
    const argIs = (i: number, k: Type["k"], what: string) => {
      const a = args[i]!;
      if (a.type.k !== k)
        fail(`argument ${i + 1} of ${n.name}() must be ${what}, not ${aType(a.type)}`, n.args[i]!);
    };
    const each = args[0]?.each ?? false;
    const result = (t: Type): Info => ({ type: each ? T.array(t) : t, each: false });
    switch (n.name) {
      case "lower":
      case "upper":
        arity(1, 1);
        argIs(0, "string", "a String");
        return result(T.string);
      case "len": {
        arity(1, 1);
        const k = args[0]!.type.k;
        if (k !== "string" && k !== "array")
          fail(`len() takes a String or an array, not ${aType(args[0]!.type)}`, n);
        return result(T.int);
      }
      case "starts_with":
      case "ends_with":
        arity(2, 2);
        argIs(0, "string", "a String");
        argIs(1, "string", "a String");
        return result(T.bool);
      case "url_decode": {
        arity(1, 2);
        argIs(0, "string", "a String");
        const opt = n.args[1];
        if (opt && !(isLiteral(opt) && opt.kind === "string" && /^[ru]*$/.test(opt.value))) {
          fail(
            'the options of url_decode() are a string literal of "r" (recursive) and "u" (%uXXXX), e.g. "r"',
            opt,
          );
        }
        return result(T.string);
      }
      case "any":
      case "all": {
        arity(1, 1);
        const a = args[0]!;
        // any(f(x[*])) and any(f(x[*])[*]) are the same array of booleans; both are accepted.
        const bools = a.each ? a.type.k === "bool" : a.type.k === "array" && a.type.of.k === "bool";
        if (!bools) {
          fail(
            `${n.name}() takes an array of booleans, e.g. ${n.name}(http.request.headers["accept"][*] contains "json")`,
            n,
          );
        }
        return { type: T.bool, each: false };
      }
      case "concat": {
        if (args.length === 0) fail("concat() needs at least one argument", n);
        if (each) fail("concat() does not take [*]", n.args[0]!);
        const first = args[0]!.type;
        const allStrings = args.every((a) => a.type.k === "string");
        const allArrays = first.k === "array" && args.every((a) => sameType(a.type, first));
        if (!allStrings && !allArrays)
          fail("concat() joins Strings, or arrays of one type, but not a mix", n);
        return { type: allStrings ? T.string : first, each: false };
      }
    }
    return fail(`unknown function ${n.name}()`, n);
  };

  const top = visit(root);
  if (!(top.type.k === "bool" && !top.each)) {
    if (top.type.k === "array" && top.type.of.k === "bool") {
      fail("this expression gives one result per array element; wrap it in any(…) or all(…)", root);
    }
    fail(
      `an expression must be true or false, but this is ${aType(top.type)}; compare it with a value`,
      root,
    );
  }
  return infos;
}
