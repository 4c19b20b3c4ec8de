// Crafted input must not make the managed ruleset hang: inspected values reach body_limit, so every pattern and
// detector has to stay linear. This only checks "does not hang" with a generous bound after a warm-up (regex
// compilation and JIT are not the point; the bound is far above the ~50 ms these take, so a loaded CI machine
// cannot fail it, while a quadratic pattern at 128 KiB takes seconds); speed figures are in bench/waf.bench.ts.
import { describe, expect, it } from "vitest";
import { ManagedEngine } from "../../core/waf/engine.ts";
import { collectTargets } from "../../core/waf/inspect.ts";
import { CRAFTED_UNITS, managedSettings } from "../waf-corpus/settings.ts";

const engine = () => new ManagedEngine(managedSettings({ paranoia: 4 }));
const body = (text: string) =>
  collectTargets({
    method: "POST",
    path: "/",
    query: "",
    headers: new Headers(),
    body: { text, contentType: "text/plain", truncated: false },
  });

describe("matching time on crafted input", () => {
  it.each(CRAFTED_UNITS)("a 128 KiB body of %j is inspected without hanging at paranoia 4", (unit) => {
    const text = unit.repeat(Math.ceil(131072 / unit.length)).slice(0, 131072);
    const e = engine();
    e.inspect(body(text.slice(0, 4096)));
    const started = performance.now();
    e.inspect(body(text));
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
