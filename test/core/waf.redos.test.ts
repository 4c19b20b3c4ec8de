// Crafted input must not make the managed ruleset hang: inspected values reach body_limit, so every pattern and
// detector has to stay linear. This only checks "does not hang" with a generous bound after a warm-up (regex
// compilation and JIT are not the point); per-detector speed figures are in bench/waf.bench.ts.
import { describe, expect, it } from "vitest";
import { ManagedEngine } from "../../core/waf/engine.ts";
import { collectTargets } from "../../core/waf/inspect.ts";

const engine = () =>
  new ManagedEngine({
    enabled: true,
    paranoia: 4,
    threshold: 5,
    mode: "block",
    disabled_rules: [],
    max_args: 255,
  });
const body = (text: string) =>
  collectTargets({
    method: "POST",
    path: "/",
    query: "",
    headers: new Headers(),
    body: { text, contentType: "text/plain", truncated: false },
  });

describe("matching time on crafted input", () => {
  // Each unit, repeated, once made some pattern or detector quadratic (backtracking over a bounded window at
  // every position, a backward search per character, an unbounded \s* after a newline).
  const units = [
    "<a",
    "<img src=",
    "<a onx",
    "' or a",
    "'",
    "../",
    "%2e%2e%2f",
    "${",
    "${a",
    "${${",
    "#{",
    "{{",
    "select ",
    "(",
    ";ls ",
    "`",
    "$(",
    "{a,",
    "\n",
    "/*!",
    "/etc/passwd",
    "javascript:",
  ];
  it.each(units)("a 128 KiB body of %j is inspected in well under a second at paranoia 4", (unit) => {
    const text = unit.repeat(Math.ceil(131072 / unit.length)).slice(0, 131072);
    const e = engine();
    e.inspect(body(text.slice(0, 4096)));
    const started = performance.now();
    e.inspect(body(text));
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
