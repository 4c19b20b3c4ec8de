// Time to collect the targets of each crafted 128 KiB body (bench/waf-body-inputs.ts) and to run the managed
// ruleset on them, at paranoia 4. Standalone: `npx tsx bench/waf-body.bench.ts` (mitata).
import { bench, do_not_optimize, run } from "mitata";
import { ManagedEngine } from "../core/waf/engine.ts";
import { collectTargets } from "../core/waf/inspect.ts";
import { managedSettings } from "../test/waf-corpus/settings.ts";
import { CRAFTED } from "./waf-body-inputs.ts";

const engine = new ManagedEngine(managedSettings({ paranoia: 4 }));
const headers = new Headers({ "user-agent": "bench", accept: "*/*" });
for (const [name, body] of Object.entries(CRAFTED)) {
  bench(`128 KiB ${name}: inspect`, () =>
    do_not_optimize(engine.inspect(collectTargets({ method: "POST", path: "/", query: "", headers, body }))),
  );
}
await run();
