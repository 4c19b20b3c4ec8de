// Config problems as sentences with a path (`routes[1].service: no service named "ap1"`), never stack traces.
import type * as z from "zod/mini";

export type Path = ReadonlyArray<string | number>;

export interface ConfigProblem {
  /** Where the problem is, e.g. `routes[1].service`; "" for the document itself. */
  path: string;
  message: string;
}

/** `["routes", 1, "match", "headers", "x-tenant"]` → `routes[1].match.headers["x-tenant"]`. */
export function formatPath(path: Path): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(part)) out += out === "" ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

export class ConfigError extends Error {
  readonly code = "SY_CONFIG_INVALID";
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[], source?: string) {
    const head = `${source ? `${source}: ` : ""}the Switchyard config has ${problems.length} problem${problems.length === 1 ? "" : "s"}`;
    super(`${head}:\n${problems.map((p) => `  ${renderProblem(p)}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

export function renderProblem(p: ConfigProblem): string {
  return p.path === "" ? p.message : `${p.path}: ${p.message}`;
}

const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  number: "a number",
  boolean: "true or false",
  object: "a table (object)",
  array: "a list (array)",
  int: "a whole number",
};

function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a table";
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Closest of `candidates` to `word` by edit distance, when it is close enough to be a typo. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** Field names a strict object at `path` accepts, found by walking the schema. */
export function knownKeysAt(schema: z.ZodMiniType, path: Path): string[] {
  let node: unknown = schema;
  const unwrap = (n: unknown): unknown => {
    // biome-ignore lint/suspicious/noExplicitAny: walking zod's internal definition tree
    let cur = n as any;
    for (let i = 0; i < 20 && cur?._zod?.def; i++) {
      const def = cur._zod.def;
      if (
        def.type === "optional" ||
        def.type === "default" ||
        def.type === "nullable" ||
        def.type === "prefault"
      )
        cur = def.innerType;
      else if (def.type === "pipe") cur = def.in;
      else if (def.type === "union")
        cur =
          def.options.find((o: { _zod?: { def?: { type?: string } } }) => o?._zod?.def?.type === "object") ??
          def.options[0];
      else break;
    }
    return cur;
  };
  for (const part of path) {
    // biome-ignore lint/suspicious/noExplicitAny: as above
    const n = unwrap(node) as any;
    const def = n?._zod?.def;
    if (!def) return [];
    if (def.type === "array") node = def.element;
    else if (def.type === "object") node = def.shape[part as string];
    else if (def.type === "record") node = def.valueType;
    else return [];
  }
  // biome-ignore lint/suspicious/noExplicitAny: as above
  const def = (unwrap(node) as any)?._zod?.def;
  return def?.type === "object" ? Object.keys(def.shape) : [];
}

/** zod issues → user sentences. Unknown keys get one problem each, with a "did you mean". */
export function problemsFromZod(
  schema: z.ZodMiniType,
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const issue of issues) {
    const path = issue.path as Path;
    if (issue.code === "unrecognized_keys") {
      const known = knownKeysAt(schema, path).filter((k) => k !== "$schema");
      for (const key of issue.keys) {
        const hint = suggest(key, known);
        out.push({
          path: formatPath([...path, key]),
          message: `unknown field "${key}"${hint ? ` (did you mean "${hint}"?)` : ""}; allowed here: ${known.join(", ")}`,
        });
      }
    } else if (issue.code === "invalid_type") {
      const actual = valueAt(input, path);
      const expected = TYPE_NAMES[issue.expected] ?? issue.expected;
      out.push({
        path: formatPath(path),
        message:
          actual === undefined
            ? `is required (${expected})`
            : `expected ${expected}, got ${describeValue(actual)}`,
      });
    } else if (issue.code === "invalid_value") {
      out.push({
        path: formatPath(path),
        message: `${describeValue(valueAt(input, path))} is not allowed; use one of: ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`,
      });
    } else if (issue.code === "invalid_union") {
      out.push({
        path: formatPath(path),
        message: issue.message.startsWith("Invalid") ? "has the wrong shape" : issue.message,
      });
    } else {
      out.push({ path: formatPath(path), message: issue.message });
    }
  }
  return out;
}

export function valueAt(input: unknown, path: Path): unknown {
  let cur = input;
  for (const part of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[part];
  }
  return cur;
}
