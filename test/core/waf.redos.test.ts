// Matching time of the managed ruleset on crafted input, in Node (workerd freezes its clocks during synchronous
// work, so timing cannot be measured there). Inspected values reach body_limit, so matching must stay linear.
import { describe, expect, it } from "vitest";
import { ManagedEngine } from "../../core/waf/engine.ts";
import { collectTargets } from "../../core/waf/inspect.ts";

describe("matching time on crafted input", () => {
  // Before every repetition was bounded, some of these took many seconds (quadratic backtracking).
  const units = [
    "<a",
    "<img src=",
    "' or a",
    "../",
    "%2e%2e%2f",
    "${",
    "${a",
    "select ",
    "(",
    ";ls ",
    "`",
    "\n",
    "/*!",
    "/etc/passwd",
  ];
  it.each(units)("a 128 KiB body of %j is inspected in well under a second at paranoia 4", (unit) => {
    const text = unit.repeat(Math.ceil(131072 / unit.length)).slice(0, 131072);
    const e = new ManagedEngine({
      enabled: true,
      paranoia: 4,
      threshold: 5,
      mode: "block",
      disabled_rules: [],
      max_args: 255,
    });
    const started = performance.now();
    e.inspect(
      collectTargets({
        method: "POST",
        path: "/",
        query: "",
        headers: new Headers(),
        body: { text, contentType: "text/plain", truncated: false },
      }),
    );
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
