// What would change between two raw config documents, path by path (`~ routes[0].service: "api" → "web"`), for
// `switchyard diff` and the admin API. Lists whose items have a `name` are matched by name, not position, so
// inserting a route reads as one addition rather than a shift of every route after it.
import { formatPath, type Path } from "./errors.ts";

export interface Change {
  kind: "added" | "removed" | "changed";
  path: string;
  before?: unknown;
  after?: unknown;
}

type Raw = Record<string, unknown>;
const isObject = (v: unknown): v is Raw => v !== null && typeof v === "object" && !Array.isArray(v);
const named = (list: unknown[]): boolean =>
  list.length > 0 && list.every((x) => isObject(x) && typeof x.name === "string");

export function diffConfig(before: unknown, after: unknown): Change[] {
  const out: Change[] = [];
  walk(before, after, [], out);
  return out;
}

function walk(a: unknown, b: unknown, path: Path, out: Change[]): void {
  if (Array.isArray(a) && Array.isArray(b)) {
    if (named(a) && named(b)) {
      const byName = (list: unknown[]) => new Map(list.map((x, i) => [(x as Raw).name as string, i]));
      const ia = byName(a);
      const ib = byName(b);
      for (const [name, i] of ia) {
        const j = ib.get(name);
        if (j === undefined) out.push({ kind: "removed", path: formatPath([...path, i]), before: a[i] });
        else walk(a[i], b[j], [...path, j], out);
      }
      for (const [name, j] of ib) {
        if (!ia.has(name)) out.push({ kind: "added", path: formatPath([...path, j]), after: b[j] });
      }
      return;
    }
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) {
      if (i >= a.length) out.push({ kind: "added", path: formatPath([...path, i]), after: b[i] });
      else if (i >= b.length) out.push({ kind: "removed", path: formatPath([...path, i]), before: a[i] });
      else walk(a[i], b[i], [...path, i], out);
    }
    return;
  }
  if (isObject(a) && isObject(b)) {
    for (const key of Object.keys(a)) {
      if (!(key in b)) out.push({ kind: "removed", path: formatPath([...path, key]), before: a[key] });
      else walk(a[key], b[key], [...path, key], out);
    }
    for (const key of Object.keys(b)) {
      if (!(key in a)) out.push({ kind: "added", path: formatPath([...path, key]), after: b[key] });
    }
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) {
    out.push({ kind: "changed", path: formatPath(path) || "(document)", before: a, after: b });
  }
}

/** One line per change: `+ path: value`, `- path: value`, `~ path: before → after`. */
export function renderChanges(changes: readonly Change[]): string {
  const show = (v: unknown) => JSON.stringify(v);
  return changes
    .map((c) =>
      c.kind === "added"
        ? `+ ${c.path}: ${show(c.after)}`
        : c.kind === "removed"
          ? `- ${c.path}: ${show(c.before)}`
          : `~ ${c.path}: ${show(c.before)} → ${show(c.after)}`,
    )
    .join("\n");
}
