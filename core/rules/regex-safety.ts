// Refuses regular expressions that can backtrack exponentially, for the patterns a config supplies (rules'
// `matches`, route regex paths, header and query regexes). JavaScript's engine backtracks, so "^/(\w+\s?)+$"
// against "/aaaa…a!" takes time doubling with each character. A linear-time engine (re2js, a port of RE2)
// would remove the problem but adds about 45 KiB gzipped to a worker bundle that is already over its budget,
// so patterns are checked when the config loads instead, and the risky shapes refused with a message:
//   - back-references (\1, \k<name>): no linear-time engine supports them (Cloudflare's and RE2 do not);
//   - a repeated group whose body holds a variable-length repeat, as in (a+)+ or (\w+\s?)+, unless each
//     iteration starts with a character none of the inner repeats can consume (so iterations cannot trade
//     characters: (/[a-z]+)+ is fine);
//   - an alternation inside a repeat whose branches can start with the same character, as in (a|ab)+ or
//     (\w|\d)*: (GET|PUT)+ is fine.
// Polynomial cases (several .* in a row) are not refused: their cost grows with a power of the value's length,
// not exponentially, and values are bounded (a URL, a header).

/** The characters an atom can match: ASCII one by one, everything else as one flag. */
class CharSet {
  readonly ascii = new Uint8Array(128);
  other = false;
  static all(): CharSet {
    const s = new CharSet();
    s.ascii.fill(1);
    s.other = true;
    return s;
  }
  add(from: number, to = from): this {
    for (let c = from; c <= to; c++) {
      if (c < 128) this.ascii[c] = 1;
      else this.other = true;
    }
    return this;
  }
  addSet(s: CharSet): this {
    for (let c = 0; c < 128; c++) if (s.ascii[c]) this.ascii[c] = 1;
    this.other ||= s.other;
    return this;
  }
  negate(): CharSet {
    const s = new CharSet();
    for (let c = 0; c < 128; c++) s.ascii[c] = this.ascii[c] ? 0 : 1;
    s.other = true;
    return s;
  }
  overlaps(s: CharSet): boolean {
    if (this.other && s.other) return true;
    for (let c = 0; c < 128; c++) if (this.ascii[c] && s.ascii[c]) return true;
    return false;
  }
}

type Node =
  | { kind: "atom"; set: CharSet }
  | { kind: "empty" }
  | { kind: "seq"; items: Node[] }
  | { kind: "alt"; alts: Node[] }
  | { kind: "repeat"; body: Node; min: number; max: number };

const DIGIT = new CharSet().add(48, 57);
const WORD = new CharSet().add(48, 57).add(65, 90).add(97, 122).add(95);
const SPACE = new CharSet().add(9, 13).add(32);
SPACE.other = true;

class BackReference extends Error {}

// Sticky, so reading a quantifier or an escape looks at this spot only (no copy of the rest of the pattern).
const BRACES = /\{(\d+)(,(\d*))?\}/y;
const UNICODE = /\{[0-9A-Fa-f]+\}|[0-9A-Fa-f]{4}/y;

/** A small parser for JavaScript regex syntax, enough to see atoms, groups, alternation and quantifiers. */
class Parser {
  private i = 0;
  private readonly src: string;
  private readonly ignoreCase: boolean;
  constructor(src: string, ignoreCase: boolean) {
    this.src = src;
    this.ignoreCase = ignoreCase;
  }

  parse(): Node {
    const n = this.alternation();
    return n;
  }

  private alternation(): Node {
    const alts = [this.sequence()];
    while (this.src[this.i] === "|") {
      this.i++;
      alts.push(this.sequence());
    }
    return alts.length === 1 ? alts[0]! : { kind: "alt", alts };
  }

  private sequence(): Node {
    const items: Node[] = [];
    while (this.i < this.src.length && this.src[this.i] !== "|" && this.src[this.i] !== ")") {
      const atom = this.atom();
      items.push(this.quantified(atom));
    }
    return { kind: "seq", items };
  }

  private quantified(atom: Node): Node {
    const c = this.src[this.i];
    let min: number;
    let max: number;
    if (c === "*") [min, max] = [0, Infinity];
    else if (c === "+") [min, max] = [1, Infinity];
    else if (c === "?") [min, max] = [0, 1];
    else if (c === "{") {
      BRACES.lastIndex = this.i;
      const m = BRACES.exec(this.src);
      if (!m) return atom;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]);
      this.i += m[0].length - 1;
    } else return atom;
    this.i++;
    if (this.src[this.i] === "?") this.i++; // lazy: same shapes, same risk
    return this.quantified({ kind: "repeat", body: atom, min, max });
  }

  private atom(): Node {
    const c = this.src[this.i++]!;
    if (c === "^" || c === "$") return { kind: "empty" };
    if (c === ".") return { kind: "atom", set: new CharSet().negate().add(0, 9).add(11, 127) };
    if (c === "[") return { kind: "atom", set: this.charClass() };
    if (c === "\\") return this.escape(false) ?? { kind: "empty" };
    if (c === "(") {
      let lookaround = false;
      if (this.src[this.i] === "?") {
        const rest = this.src.slice(this.i + 1);
        if (rest.startsWith(":")) this.i += 2;
        else if (rest.startsWith("=") || rest.startsWith("!")) [this.i, lookaround] = [this.i + 2, true];
        else if (rest.startsWith("<=") || rest.startsWith("<!")) [this.i, lookaround] = [this.i + 3, true];
        else if (rest.startsWith("<")) this.skipPast(">");
        else this.skipPast(":"); // (?i:…) modifiers
      }
      const body = this.alternation();
      this.i++; // ")"
      return lookaround ? { kind: "empty" } : body;
    }
    return { kind: "atom", set: this.literal(c.codePointAt(0)!) };
  }

  /** Moves past the next `ch`, or to the end; never backwards. */
  private skipPast(ch: string): void {
    const at = this.src.indexOf(ch, this.i);
    this.i = at === -1 ? this.src.length : at + 1;
  }

  private literal(code: number): CharSet {
    const s = new CharSet().add(code);
    if (this.ignoreCase && code < 128) {
      const ch = String.fromCharCode(code);
      s.add(ch.toLowerCase().charCodeAt(0)).add(ch.toUpperCase().charCodeAt(0));
    }
    return s;
  }

  /** After a backslash; undefined for zero-width escapes (\b, \B). */
  private escape(inClass: boolean): Node | undefined {
    const c = this.src[this.i++]!;
    const set = (s: CharSet): Node => ({ kind: "atom", set: s });
    switch (c) {
      case "d":
        return set(DIGIT);
      case "D":
        return set(DIGIT.negate());
      case "w":
        return set(WORD);
      case "W":
        return set(WORD.negate());
      case "s":
        return set(SPACE);
      case "S":
        return set(SPACE.negate());
      case "b":
        return inClass ? set(new CharSet().add(8)) : undefined;
      case "B":
        return undefined;
      case "k":
        if (!inClass && this.src[this.i] === "<") throw new BackReference();
        return set(this.literal(107));
      case "p":
      case "P":
        if (this.src[this.i] === "{") this.skipPast("}");
        return set(CharSet.all());
      case "x":
        this.i += 2;
        return set(this.literal(Number.parseInt(this.src.slice(this.i - 2, this.i), 16) || 0));
      case "u": {
        UNICODE.lastIndex = this.i;
        const m = UNICODE.exec(this.src);
        this.i += m ? m[0].length : 0;
        return set(CharSet.all());
      }
      case "n":
        return set(new CharSet().add(10));
      case "r":
        return set(new CharSet().add(13));
      case "t":
        return set(new CharSet().add(9));
      case "c":
        this.i++;
        return set(CharSet.all());
      default:
        if (!inClass && c >= "1" && c <= "9") throw new BackReference();
        return set(this.literal(c.codePointAt(0)!));
    }
  }

  private charClass(): CharSet {
    const negated = this.src[this.i] === "^";
    if (negated) this.i++;
    const s = new CharSet();
    let first = true;
    while (this.i < this.src.length && (this.src[this.i] !== "]" || first)) {
      first = false;
      let lo: number | undefined;
      if (this.src[this.i] === "\\") {
        this.i++;
        const e = this.escape(true);
        if (e?.kind === "atom") {
          const only = singleChar(e.set);
          if (only === undefined) {
            s.addSet(e.set);
            continue;
          }
          lo = only;
        }
      } else lo = this.src.codePointAt(this.i++)!;
      if (lo === undefined) continue;
      if (this.src[this.i] === "-" && this.src[this.i + 1] !== "]" && this.i + 1 < this.src.length) {
        this.i++;
        let hi: number;
        if (this.src[this.i] === "\\") {
          this.i++;
          const e = this.escape(true);
          hi = e?.kind === "atom" ? (singleChar(e.set) ?? 0x10ffff) : 0x10ffff;
        } else hi = this.src.codePointAt(this.i++)!;
        s.add(lo, Math.min(hi, 0x7f)).other ||= hi > 0x7f;
        if (this.ignoreCase) for (let c = lo; c <= Math.min(hi, 127); c++) s.addSet(this.literal(c));
      } else s.addSet(this.literal(lo));
    }
    this.i++; // "]"
    return negated ? s.negate() : s;
  }
}

function singleChar(s: CharSet): number | undefined {
  if (s.other) return undefined;
  let found: number | undefined;
  for (let c = 0; c < 128; c++) {
    if (!s.ascii[c]) continue;
    if (found !== undefined) return undefined;
    found = c;
  }
  return found;
}

/** The characters a match of `n` can start with, and whether it can match the empty string. */
function first(n: Node): { set: CharSet; nullable: boolean } {
  switch (n.kind) {
    case "atom":
      return { set: n.set, nullable: false };
    case "empty":
      return { set: new CharSet(), nullable: true };
    case "repeat": {
      const f = first(n.body);
      return { set: f.set, nullable: f.nullable || n.min === 0 };
    }
    case "alt": {
      const set = new CharSet();
      let nullable = false;
      for (const a of n.alts) {
        const f = first(a);
        set.addSet(f.set);
        nullable ||= f.nullable;
      }
      return { set, nullable };
    }
    case "seq": {
      const set = new CharSet();
      for (const item of n.items) {
        const f = first(item);
        set.addSet(f.set);
        if (!f.nullable) return { set, nullable: false };
      }
      return { set, nullable: true };
    }
  }
}

/** Every character a variable-length repeat inside `n` can consume. */
function variableChars(n: Node, inside = false): CharSet {
  const out = new CharSet();
  const walk = (m: Node, variable: boolean) => {
    if (m.kind === "atom") {
      if (variable) out.addSet(m.set);
    } else if (m.kind === "repeat") walk(m.body, variable || m.min !== m.max);
    else if (m.kind === "seq") for (const x of m.items) walk(x, variable);
    else if (m.kind === "alt") for (const x of m.alts) walk(x, variable);
  };
  walk(n, inside);
  return out;
}

function hasVariableRepeat(n: Node): boolean {
  if (n.kind === "repeat") return n.min !== n.max || hasVariableRepeat(n.body);
  if (n.kind === "seq") return n.items.some(hasVariableRepeat);
  if (n.kind === "alt") return n.alts.some(hasVariableRepeat);
  return false;
}

/** An alternation whose branches can start with the same character (or match nothing), if any. */
function ambiguousAlternation(n: Node): boolean {
  if (n.kind === "alt") {
    const firsts = n.alts.map(first);
    if (firsts.some((f) => f.nullable)) return true;
    for (let a = 0; a < firsts.length; a++)
      for (let b = a + 1; b < firsts.length; b++) if (firsts[a]!.set.overlaps(firsts[b]!.set)) return true;
    return n.alts.some(ambiguousAlternation);
  }
  if (n.kind === "repeat") return ambiguousAlternation(n.body);
  if (n.kind === "seq") return n.items.some(ambiguousAlternation);
  return false;
}

function risk(n: Node): string | undefined {
  if (n.kind === "repeat") {
    if (n.max > 1) {
      if (hasVariableRepeat(n.body)) {
        // A fixed character at the start or end of each iteration that no inner repeat can consume forces
        // where one iteration ends and the next begins: (/[a-z]+)+ and ([a-z]+\.)+ are linear.
        const items = n.body.kind === "seq" ? n.body.items : [n.body];
        const inner = variableChars(n.body);
        const delimiter = (x: Node | undefined) => x?.kind === "atom" && !inner.overlaps(x.set);
        if (!delimiter(items[0]) && !delimiter(items[items.length - 1])) {
          return "a repeated group contains another repeat (as in (a+)+), which can take exponential time on a near-miss; repeat a single class instead, e.g. (\\w|\\s)+ → [\\w\\s]+";
        }
      }
      if (ambiguousAlternation(n.body)) {
        return "a repeated group has alternatives that can start with the same character (as in (a|ab)+), which can take exponential time on a near-miss; make the alternatives start differently or use a class";
      }
    }
    return risk(n.body);
  }
  const children = n.kind === "seq" ? n.items : n.kind === "alt" ? n.alts : [];
  for (const x of children) {
    const r = risk(x);
    if (r) return r;
  }
  return undefined;
}

/**
 * Why `pattern` could backtrack exponentially, or undefined when it cannot. `pattern` must already be a valid
 * JavaScript regex; `flags` as for RegExp (only "i" matters here).
 */
export function backtrackingRisk(pattern: string, flags = ""): string | undefined {
  try {
    return risk(new Parser(pattern, flags.includes("i")).parse());
  } catch (e) {
    if (e instanceof BackReference)
      return "back-references (\\1, \\k<name>) are not supported: they need a backtracking engine";
    if (e instanceof RangeError) return "the pattern nests too deeply to be checked; simplify it";
    // A valid pattern this reader does not follow (it covers what RegExp accepts, so this is a bug here):
    // it is not refused for that.
    return undefined;
  }
}
