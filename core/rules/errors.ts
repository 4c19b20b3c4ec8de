// Errors in rule expressions: which rule, where (line and column), what is wrong, with a caret under the spot.

export type RuleErrorKind = "syntax" | "type";

/** A syntax or type error in one expression, found when the config loads. */
export class RuleError extends Error {
  readonly code = "SY_RULE_INVALID";
  readonly kind: RuleErrorKind;
  /** The rule's name or id as the config calls it, e.g. `waf.rules[2]` or `block-admin`. */
  readonly rule: string;
  readonly expression: string;
  /** 0-based offset into the expression, and the 1-based line and column it falls on. */
  readonly offset: number;
  readonly line: number;
  readonly column: number;
  /** The message alone, without location; `message` carries the full rendering. */
  readonly reason: string;
  /** The full rendering without the rule name, for reports that already say where the rule is. */
  readonly detail: string;

  constructor(kind: RuleErrorKind, reason: string, expression: string, offset: number, rule = "expression") {
    const { line, column, text } = locate(expression, offset);
    const where = line > 1 ? `line ${line}, column ${column}` : `column ${column}`;
    const detail = `${kind} error at ${where}: ${reason}\n  ${text}\n  ${caret(text, column)}`;
    super(`${rule}: ${detail}`);
    this.detail = detail;
    this.name = "RuleError";
    this.kind = kind;
    this.reason = reason;
    this.rule = rule;
    this.expression = expression;
    this.offset = offset;
    this.line = line;
    this.column = column;
  }

  /** The same error attributed to a named rule (the parser does not know names). */
  withRule(rule: string): RuleError {
    return new RuleError(this.kind, this.reason, this.expression, this.offset, rule);
  }
}

function locate(expression: string, offset: number): { line: number; column: number; text: string } {
  const clamped = Math.max(0, Math.min(offset, expression.length));
  const before = expression.slice(0, clamped);
  const line = before.split("\n").length;
  const lineStart = before.lastIndexOf("\n") + 1;
  let lineEnd = expression.indexOf("\n", lineStart);
  if (lineEnd === -1) lineEnd = expression.length;
  return {
    line,
    column: clamped - lineStart + 1,
    text: expression.slice(lineStart, lineEnd).replace(/\t/g, " "),
  };
}

function caret(_text: string, column: number): string {
  return `${" ".repeat(column - 1)}^`;
}
