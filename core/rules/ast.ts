// Syntax tree of a rule expression. Every node keeps its source offsets so the checker can point at it.

export interface Span {
  start: number;
  end: number;
}

export type CompareOp =
  | "eq"
  | "ne"
  | "lt"
  | "le"
  | "gt"
  | "ge"
  | "contains"
  | "matches"
  | "wildcard"
  | "strict wildcard";

/** A literal on the right of a comparison or in a set. */
export type Literal =
  | ({ kind: "string"; value: string; regexSource: string } & Span)
  | ({ kind: "int"; value: number } & Span)
  | ({ kind: "intRange"; lo: number; hi: number } & Span)
  /** An IP, CIDR or a..b range, kept as text: ip.ts parses it. */
  | ({ kind: "ip"; text: string; single: boolean } & Span);

export type Expr =
  | ({ kind: "field"; name: string } & Span)
  | ({ kind: "index"; target: Expr; key: string | number; keySpan: Span } & Span)
  | ({ kind: "unpack"; target: Expr } & Span)
  | ({ kind: "call"; name: string; args: Array<Expr | Literal> } & Span)
  | ({ kind: "compare"; op: CompareOp; left: Expr; right: Literal; opSpan: Span } & Span)
  | ({ kind: "in"; left: Expr; items: Literal[]; opSpan: Span } & Span)
  | ({ kind: "not"; operand: Expr } & Span)
  | ({ kind: "logic"; op: "and" | "or" | "xor"; left: Expr; right: Expr; opSpan: Span } & Span);

export const isLiteral = (n: Expr | Literal): n is Literal =>
  n.kind === "string" || n.kind === "int" || n.kind === "intRange" || n.kind === "ip";
