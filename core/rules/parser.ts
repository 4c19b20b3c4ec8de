// Recursive-descent parser: tokens → syntax tree. Precedence, loosest first: or, xor, and, not, comparison.
// Every later pass (check, compile, evaluate) walks the tree recursively, so the tree's depth is what must stay
// small: nesting (parentheses, not, function arguments) is capped at MAX_NESTING with a clear error, and a
// chain of the same operator (a or b or c …, thousands long in generated rules) is folded into a balanced tree,
// whose depth grows with the logarithm of its length. and, or and xor are associative and the leaves keep
// their order, so short-circuit evaluation sees the same operands in the same order.
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

/** Deepest nesting of parentheses, not and function calls an expression may have. */
export const MAX_NESTING = 100;

type LogicOp = "or" | "xor" | "and";

export function parse(src: string): Expr {
  return new Parser(src).parseAll();
}

class Parser {
  private readonly tokens: Token[];
  private pos = 0;
  private depth = 0;
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

  /** One level deeper (a parenthesis, a not, a function's arguments): refused past MAX_NESTING. */
  private nested<T>(at: number, inner: () => T): T {
    if (++this.depth > MAX_NESTING) this.tooDeep(at);
    try {
      return inner();
    } finally {
      this.depth--;
    }
  }

  private tooDeep(at: number): never {
    return this.fail(
      `the expression nests more than ${MAX_NESTING} levels deep (parentheses, not, function calls, indexes); split it into simpler conditions`,
      at,
    );
  }

  private parseOr(): Expr {
    return this.chain("or", "||", () => this.parseXor());
  }

  private parseXor(): Expr {
    return this.chain("xor", "^^", () => this.parseAnd());
  }

  private parseAnd(): Expr {
    return this.chain("and", "&&", () => this.parseNot());
  }

  /** `operand (op operand)*`, read in a loop and folded into a balanced tree (see the top of this file). */
  private chain(op: LogicOp, symbol: string, operand: () => Expr): Expr {
    const operands = [operand()];
    const ops: Token[] = [];
    for (let t = this.logicOp(op, symbol); t; t = this.logicOp(op, symbol)) {
      ops.push(t);
      operands.push(operand());
    }
    return balanced(op, operands, ops, 0, operands.length - 1);
  }

  private parseNot(): Expr {
    // A run of nots is read in a loop; each one still counts as a level of nesting.
    const nots: Token[] = [];
    for (let op = this.logicOp("not", "!"); op; op = this.logicOp("not", "!")) {
      if (this.depth + nots.length >= MAX_NESTING) this.tooDeep(op.start);
      nots.push(op);
    }
    if (nots.length === 0) return this.parseComparison();
    this.depth += nots.length;
    let e: Expr;
    try {
      e = this.parseComparison();
    } finally {
      this.depth -= nots.length;
    }
    for (let i = nots.length - 1; i >= 0; i--)
      e = { kind: "not", operand: e, start: nots[i]!.start, end: e.end };
    return e;
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
      const inner = this.nested(t.start, () => this.parseOr());
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
              this.is("string") || this.is("bare")
                ? this.parseLiteral(false, "an argument")
                : this.nested(t.start, () => this.parseOr()),
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
    for (let levels = 0; ; levels++) {
      if (levels > MAX_NESTING) this.tooDeep(this.peek().start);
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

/** operands[lo..hi] joined by `op` (ops[i] stands between operands i and i+1), as a tree log2(n) deep. */
function balanced(op: LogicOp, operands: Expr[], ops: Token[], lo: number, hi: number): Expr {
  if (lo === hi) return operands[lo]!;
  const mid = (lo + hi) >> 1;
  const left = balanced(op, operands, ops, lo, mid);
  const right = balanced(op, operands, ops, mid + 1, hi);
  return { kind: "logic", op, left, right, opSpan: ops[mid]!, start: left.start, end: right.end };
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
