// Recursive-descent parser: tokens → syntax tree. Precedence, loosest first: or, xor, and, not, comparison.
import type { CompareOp, Expr, Literal } from "./ast.ts";
import { RuleError } from "./errors.ts";
import { type Token, tokenize, unescapeBasic } from "./lexer.ts";

const COMPARE: Record<string, CompareOp> = {
  eq: "eq",
  "==": "eq",
  ne: "ne",
  "!=": "ne",
  lt: "lt",
  "<": "lt",
  le: "le",
  "<=": "le",
  gt: "gt",
  ">": "gt",
  ge: "ge",
  ">=": "ge",
  contains: "contains",
  matches: "matches",
  "~": "matches",
  wildcard: "wildcard",
};

const KEYWORDS = new Set([...Object.keys(COMPARE), "strict", "in", "and", "or", "xor", "not"]);

export function parse(src: string): Expr {
  return new Parser(src).parseAll();
}

class Parser {
  private readonly tokens: Token[];
  private pos = 0;
  private readonly src: string;

  constructor(src: string) {
    this.src = src;
    this.tokens = tokenize(src);
  }

  private fail(msg: string, at: number): never {
    throw new RuleError("syntax", msg, this.src, at);
  }

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  private next(): Token {
    return this.tokens[this.pos++]!;
  }

  private is(kind: Token["kind"], text?: string): boolean {
    const t = this.peek();
    return t.kind === kind && (text === undefined || t.text === text);
  }

  private expect(kind: Token["kind"], text: string, what: string): Token {
    if (!this.is(kind, text))
      this.fail(`expected ${what}, found ${describe(this.peek())}`, this.peek().start);
    return this.next();
  }

  parseAll(): Expr {
    if (this.is("eof")) this.fail("the expression is empty", 0);
    const e = this.parseOr();
    if (!this.is("eof")) {
      const t = this.peek();
      const hint =
        t.kind === "ident" && !KEYWORDS.has(t.text)
          ? '; join conditions with "and" or "or"'
          : t.kind === "punct" && t.text === ")"
            ? '; this parenthesis has no matching "("'
            : "";
      this.fail(`unexpected ${describe(t)}${hint}`, t.start);
    }
    return e;
  }

  private logicOp(english: string, symbol: string): Token | undefined {
    const t = this.peek();
    if ((t.kind === "ident" && t.text === english) || (t.kind === "op" && t.text === symbol))
      return this.next();
    return undefined;
  }

  private parseOr(): Expr {
    let left = this.parseXor();
    for (let op = this.logicOp("or", "||"); op; op = this.logicOp("or", "||")) {
      const right = this.parseXor();
      left = { kind: "logic", op: "or", left, right, opSpan: op, start: left.start, end: right.end };
    }
    return left;
  }

  private parseXor(): Expr {
    let left = this.parseAnd();
    for (let op = this.logicOp("xor", "^^"); op; op = this.logicOp("xor", "^^")) {
      const right = this.parseAnd();
      left = { kind: "logic", op: "xor", left, right, opSpan: op, start: left.start, end: right.end };
    }
    return left;
  }

  private parseAnd(): Expr {
    let left = this.parseNot();
    for (let op = this.logicOp("and", "&&"); op; op = this.logicOp("and", "&&")) {
      const right = this.parseNot();
      left = { kind: "logic", op: "and", left, right, opSpan: op, start: left.start, end: right.end };
    }
    return left;
  }

  private parseNot(): Expr {
    const op = this.logicOp("not", "!");
    if (op) {
      const operand = this.parseNot();
      return { kind: "not", operand, start: op.start, end: operand.end };
    }
    return this.parseComparison();
  }

  private parseComparison(): Expr {
    const left = this.parsePrimary();
    const t = this.peek();
    let op: CompareOp | undefined;
    let opEnd = t.end;
    if ((t.kind === "ident" || t.kind === "op") && COMPARE[t.text] && t.text !== "!") op = COMPARE[t.text];
    if (t.kind === "ident" && t.text === "strict") {
      const w = this.tokens[this.pos + 1]!;
      if (!(w.kind === "ident" && w.text === "wildcard"))
        this.fail('"strict" must be followed by "wildcard"', w.start);
      this.pos++;
      op = "strict wildcard";
      opEnd = w.end;
    }
    if (op) {
      this.next();
      const right = this.parseLiteral(op === "matches", `a value after "${t.text}"`);
      return {
        kind: "compare",
        op,
        left,
        right,
        opSpan: { start: t.start, end: opEnd },
        start: left.start,
        end: right.end,
      };
    }
    if (t.kind === "ident" && t.text === "in") {
      this.next();
      if (this.is("list")) {
        this.fail(
          `named lists (${this.peek().text}) are not supported; write the values inline, like {"a" "b"} or {10.0.0.0/8}`,
          this.peek().start,
        );
      }
      const open = this.expect("punct", "{", 'a set of values in braces after "in", like {"GET" "HEAD"}');
      const items: Literal[] = [];
      while (!this.is("punct", "}")) {
        if (this.is("eof")) this.fail('this set is never closed; add "}"', open.start);
        if (this.is("punct", ","))
          this.fail("set values are separated by spaces, not commas", this.peek().start);
        items.push(this.parseLiteral(false, 'a value or "}"'));
      }
      const close = this.next();
      if (items.length === 0) this.fail("an empty set matches nothing; list at least one value", open.start);
      return { kind: "in", left, items, opSpan: t, start: left.start, end: close.end };
    }
    if (t.kind === "ident" && (t.text === "starts_with" || t.text === "ends_with")) {
      this.fail(`${t.text} is a function, not an operator: write ${t.text}(field, "value")`, t.start);
    }
    return left;
  }

  private parsePrimary(): Expr {
    const t = this.peek();
    if (t.kind === "punct" && t.text === "(") {
      this.next();
      const inner = this.parseOr();
      if (!this.is("punct", ")")) {
        this.fail(
          `expected ")" to close the "(" at column ${t.start + 1}, found ${describe(this.peek())}`,
          this.peek().start,
        );
      }
      this.next();
      return inner;
    }
    if (t.kind === "ident" && !KEYWORDS.has(t.text)) {
      this.next();
      let e: Expr;
      if (this.is("punct", "(")) {
        this.next();
        const args: Array<Expr | Literal> = [];
        if (!this.is("punct", ")")) {
          for (;;) {
            args.push(
              this.is("string") || this.is("bare") ? this.parseLiteral(false, "an argument") : this.parseOr(),
            );
            if (this.is("punct", ",")) {
              this.next();
              continue;
            }
            if (this.is("punct", ")")) break;
            this.fail(
              `expected "," or ")" in the arguments of ${t.text}(), found ${describe(this.peek())}`,
              this.peek().start,
            );
          }
        }
        const close = this.next();
        e = { kind: "call", name: t.text, args, start: t.start, end: close.end };
      } else {
        e = { kind: "field", name: t.text, start: t.start, end: t.end };
      }
      return this.parseIndexes(e);
    }
    if (t.kind === "string" || t.kind === "bare") {
      this.fail(
        "a comparison starts with a field or function, and the literal value comes after the operator",
        t.start,
      );
    }
    if (t.kind === "eof")
      this.fail('the expression ends too early; expected a field, a function or "("', t.start);
    this.fail(`expected a field, a function or "(", found ${describe(t)}`, t.start);
  }

  private parseIndexes(target: Expr): Expr {
    let e = target;
    for (;;) {
      if (this.is("punct", "[*]")) {
        const t = this.next();
        e = { kind: "unpack", target: e, start: e.start, end: t.end };
      } else if (this.is("punct", "[")) {
        const open = this.next();
        const k = this.next();
        let key: string | number;
        if (k.kind === "string") {
          key = this.decode(k);
        } else if (k.kind === "bare" && /^[0-9]+$/.test(k.text)) {
          key = Number(k.text);
        } else {
          this.fail('expected a "key", an index such as 0, or * between brackets', k.start);
        }
        const close = this.expect("punct", "]", '"]"');
        e = { kind: "index", target: e, key, keySpan: k, start: e.start, end: close.end };
        void open;
      } else {
        return e;
      }
    }
  }

  private decode(t: Token): string {
    if (t.raw) return t.text;
    const v = unescapeBasic(t.text);
    if (typeof v === "string") return v;
    return this.fail(
      'unknown escape in a string; use \\" or \\\\ (or a raw string r"…")',
      t.start + 1 + v.badAt,
    );
  }

  private parseLiteral(regex: boolean, what: string): Literal {
    const t = this.next();
    if (t.kind === "string") {
      // A quoted regex keeps its backslashes for the regex engine; only \" is a string escape there.
      const regexSource = t.raw ? t.text : t.text.replace(/\\"/g, '"');
      const value = regex ? regexSource : this.decode(t);
      return { kind: "string", value, regexSource, start: t.start, end: t.end };
    }
    if (t.kind === "bare") return this.classifyBare(t);
    if (t.kind === "list")
      this.fail(`named lists (${t.text}) are not supported; write the values inline`, t.start);
    if (t.kind === "ident" && (t.text === "true" || t.text === "false")) {
      this.fail("there are no true/false literals; use the boolean field alone, or with not", t.start);
    }
    return this.fail(`expected ${what}, found ${describe(t)}`, t.start);
  }

  private classifyBare(t: Token): Literal {
    const s = t.text;
    const span = { start: t.start, end: t.end };
    if (/^-?[0-9]+$/.test(s)) {
      const value = Number(s);
      if (!Number.isSafeInteger(value)) this.fail(`${s} is too large for an integer`, t.start);
      return { kind: "int", value, ...span };
    }
    const m = /^(-?[0-9]+)\.\.(-?[0-9]+)$/.exec(s);
    if (m) {
      const lo = Number(m[1]);
      const hi = Number(m[2]);
      if (lo > hi) this.fail(`the range ${s} is empty: its start is after its end`, t.start);
      return { kind: "intRange", lo, hi, ...span };
    }
    if (
      /^[0-9A-Fa-f:.]+(\/[0-9]+)?$|^[0-9A-Fa-f:.]+\.\.[0-9A-Fa-f:.]+$/.test(s) &&
      (s.includes(".") || s.includes(":"))
    ) {
      return { kind: "ip", text: s, single: !s.includes("/") && !s.includes(".."), ...span };
    }
    return this.fail(`${JSON.stringify(s)} is not a number, IP address, CIDR or range`, t.start);
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case "eof":
      return "the end of the expression";
    case "string":
      return "a string";
    case "bare":
      return `"${t.text}"`;
    default:
      return `"${t.text}"`;
  }
}
