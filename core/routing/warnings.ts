// Config-load warnings for match blocks that can never win: an earlier or higher-ranked block under the same
// host and the same path condition matches every request this one would (a duplicate, or a block whose
// conditions are a subset of this one's with the same rank). Reported with paths, like problems, but the
// config still loads.
import type { ConfigProblem } from "../config/errors.ts";
import type { Config } from "../config/schema/index.ts";
import type { Entry, PathKey, ValueCond } from "./compile.ts";
import { bySecondaryRank } from "./precedence.ts";
import { compileRouteTable } from "./table.ts";

const samePath = (a: PathKey, b: PathKey) => a.kind === b.kind && a.value === b.value;

/** Whether every value that satisfies `strict` also satisfies `loose`. */
function implies(strict: ValueCond, loose: ValueCond): boolean {
  switch (loose.kind) {
    case "present":
      return strict.kind !== "absent";
    case "absent":
      return strict.kind === "absent";
    case "exact":
      return strict.kind === "exact" && strict.value === loose.value;
    case "regex":
      return (
        (strict.kind === "regex" && strict.value === loose.value) ||
        (strict.kind === "exact" && loose.re!.test(strict.value))
      );
  }
}

/** Every condition of `loose` is implied by a condition of `strict` on the same name. */
function covers(loose: Entry["headers"], strict: Entry["headers"]): boolean {
  return loose.every(([name, lc]) => strict.some(([n, sc]) => n === name && implies(sc, lc)));
}

/** `winner` matches every request `loser` matches, under the given host, and ranks ahead of it. */
function shadows(winner: Entry, loser: Entry): boolean {
  if (!samePath(winner.path, loser.path)) return false;
  if (bySecondaryRank(winner, loser) >= 0) return false;
  // A `when` cannot be compared with another condition: a winner with one may let requests through to the loser.
  if (winner.route.when !== undefined) return false;
  if (winner.methods && !(loser.methods && [...loser.methods].every((m) => winner.methods!.has(m))))
    return false;
  return (
    covers(winner.headers, loser.headers) &&
    covers(winner.query, loser.query) &&
    covers(winner.cookies, loser.cookies)
  );
}

// Only blocks under the same host and the same path condition can shadow each other, so they are grouped by
// both: the check stays linear in the number of routes unless many blocks share one host and path.
const groupKey = (h: Entry["hosts"][number], e: Entry) =>
  `${h.kind}:${h.value} ${e.path.kind}:${e.path.value}`;

export function routeWarnings(config: Config): ConfigProblem[] {
  const { entries } = compileRouteTable(config.routes);
  const groups = new Map<string, Entry[]>();
  for (const e of entries) {
    for (const h of e.hosts) {
      const list = groups.get(groupKey(h, e));
      if (list) list.push(e);
      else groups.set(groupKey(h, e), [e]);
    }
  }
  const warnings: ConfigProblem[] = [];
  for (const e of entries) {
    let by: Entry | undefined;
    const allShadowed = e.hosts.every((h) => {
      const winner = groups.get(groupKey(h, e))!.find((w) => w !== e && shadows(w, e));
      by ??= winner;
      return winner !== undefined;
    });
    if (!allShadowed || !by) continue;
    const route = config.routes[e.index]!;
    const at = route.match.length === 1 ? `routes[${e.index}].match` : `routes[${e.index}].match[${e.block}]`;
    const other = config.routes[by.index]!;
    const where = other.match.length === 1 ? `routes[${by.index}]` : `routes[${by.index}].match[${by.block}]`;
    warnings.push({
      path: at,
      message: `can never match: ${where} (route "${other.name}") matches every request it would and takes precedence; remove one or make this one more specific`,
    });
  }
  return warnings;
}
