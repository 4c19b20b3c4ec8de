// WAF per-request microbenchmark (mitata): the stage's whole decision (custom rules + managed ruleset at
// paranoia 1, body read from a Request clone) for a typical GET (5 headers, 3 query args) and an 8 KiB form.
// Repeating one form lets the engine's clean-value memo answer for its fields; the "unseen values" case
// rotates through more distinct forms than the memo holds, as real form posts with their own values are.
// Last, each detector and pattern rule on 128 KiB of crafted input (a unit repeated: "<a", "' or a", "${", …):
// the worst time per rule, best of 5, which has to stay linear (under 20 ms on this machine).
// Standalone: `npx node bench/waf.bench.ts`; `npm run bench` calls the exported run() for the figures.
import { fileURLToPath } from "node:url";
import { bench, do_not_optimize, run as mitataRun } from "mitata";
import { parseConfig } from "../core/config/parse.ts";
import { RequestFields, ruleRequestFrom } from "../core/rules/index.ts";
import { collectTargets } from "../core/waf/inspect.ts";
import { MANAGED_RULES } from "../core/waf/managed-rules.ts";
import { PipelineTree } from "../core/waf/pipelines.ts";
import { compileWaf } from "../core/waf/policy.ts";
import { CRAFTED_UNITS } from "../test/waf-corpus/settings.ts";
import { decide } from "../worker/src/waf/stage.ts";

const config = parseConfig({
  services: [{ name: "web", backends: [{ url: "http://10.0.0.1:8080" }] }],
  routes: [{ name: "web", service: "web" }],
  waf: {
    rules: [
      {
        id: "admin",
        expression: 'http.request.uri.path wildcard "/admin*" and not ip.src in {10.0.0.0/8}',
        action: "block",
      },
      { id: "bad-bots", expression: 'lower(http.user_agent) contains "badbot"', action: "block" },
      { id: "probe", expression: 'any(http.request.uri.args.names[*] eq "debug")', action: "log" },
    ],
  },
});
const waf = compileWaf(config);
const engine = waf.forRoute(0)!;

const HEADERS = {
  host: "shop.example.com",
  "user-agent":
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
  accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
  "accept-language": "en-GB,en;q=0.9",
  cookie: "session=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2ln; theme=dark",
};
const GET_URL = "https://shop.example.com/products/shoes?color=red&size=42&sort=price_asc";

function formBody(bytes: number, variant = ""): string {
  const words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"];
  const parts: string[] = [];
  let n = 0;
  for (let i = 0; n < bytes; i++) {
    const p = `field${i}=${encodeURIComponent(`${words[i % 8]} ${words[(i * 3) % 8]}'s note${variant}, ${i}`)}`;
    parts.push(p);
    n += p.length + 1;
  }
  return parts.join("&").slice(0, bytes);
}
const FORM = formBody(8192);
// 64 forms × ~400 names and values is several times CLEAN_CACHE_SIZE, so every value is new to the memo.
const UNSEEN_FORMS = Array.from({ length: 64 }, (_, i) => formBody(8192, ` ${i}`));
let unseen = 0;

const getRequest = () => new Request(GET_URL, { headers: HEADERS });
const formRequest = () =>
  new Request("https://shop.example.com/contact", {
    method: "POST",
    headers: { ...HEADERS, "content-type": "application/x-www-form-urlencoded" },
    body: FORM,
  });

async function once(make: () => Request): Promise<string> {
  const req = make();
  const fields = new RequestFields(ruleRequestFrom(req, "203.0.113.7"));
  const d = await decide(engine, req, fields, waf.bodyLimit);
  return d.action;
}

/** Median of the managed inspection alone (body text already in hand), to separate it from Request costs. */
function inspectOnly(body?: string) {
  const fields = new RequestFields(ruleRequestFrom(getRequest(), "203.0.113.7"));
  return engine.managed.inspect(
    collectTargets({
      method: body ? "POST" : "GET",
      path: fields.path(),
      query: fields.query(),
      headers: new Headers(HEADERS),
      body: body
        ? { text: body, contentType: "application/x-www-form-urlencoded", truncated: false }
        : undefined,
      // As decide() passes it: the argument checks above the engine's paranoia level do not run.
      paranoia: engine.managed.settings.paranoia,
    }),
  ).score;
}

/**
 * The inspection-only cases (what the bench's "managed inspection only" rows time), one call each; also counted
 * in instructions by scripts/count-waf-instructions.ts.
 */
export const INSPECT_ONLY = {
  get: () => inspectOnly(),
  form: () => inspectOnly(FORM),
  unseen: () => inspectOnly(UNSEEN_FORMS[unseen++ & 63]),
};

/** Per rule, the slowest crafted unit at 128 KiB (best of 5 runs), after its transformations. */
function crafted(): { worst_ms: number; worst: string; detectors: Array<{ name: string; value: number }> } {
  const tree = new PipelineTree();
  const perRule = new Map<string, number>();
  let worst = { ms: 0, what: "" };
  for (const unit of CRAFTED_UNITS) {
    const raw = unit.repeat(Math.ceil(131072 / unit.length)).slice(0, 131072);
    const memo: Array<string | undefined> = [raw];
    for (const r of MANAGED_RULES) {
      const text = tree.text(tree.intern(r.t), memo);
      let best = Number.POSITIVE_INFINITY;
      for (let i = 0; i < 5; i++) {
        // A different text each run (trailing spaces): the shell detectors remember the last value they split.
        const input = `${text}${" ".repeat(i + 1)}`;
        const t0 = performance.now();
        if (r.detect) r.detect(input);
        else r.re!.test(input);
        best = Math.min(best, performance.now() - t0);
      }
      perRule.set(r.id, Math.max(perRule.get(r.id) ?? 0, best));
      if (best > worst.ms) worst = { ms: best, what: `${r.id} on ${JSON.stringify(unit)}` };
    }
  }
  const detectors = MANAGED_RULES.filter((r) => r.detect).map((r) => ({
    name: `${r.id}_128k_ms`,
    value: perRule.get(r.id)!,
  }));
  return { worst_ms: worst.ms, worst: worst.what, detectors };
}

export async function run({ quick = false }: { quick?: boolean } = {}) {
  if ((await once(getRequest)) !== "pass" || (await once(formRequest)) !== "pass") {
    throw new Error("the benchmark requests must pass the WAF; a rule change made them match");
  }
  bench("waf: typical GET (5 headers, 3 args), whole decision", async () =>
    do_not_optimize(await once(getRequest)),
  );
  bench("waf: 8 KiB form POST, whole decision incl. body read", async () =>
    do_not_optimize(await once(formRequest)),
  );
  bench("waf: typical GET, managed inspection only", () => do_not_optimize(INSPECT_ONLY.get()));
  bench("waf: 8 KiB form, managed inspection only", () => do_not_optimize(INSPECT_ONLY.form()));
  bench("waf: 8 KiB form with unseen values, managed inspection only", () =>
    do_not_optimize(INSPECT_ONLY.unseen()),
  );
  bench("baseline: build the GET Request alone", () => do_not_optimize(getRequest()));
  const out = await mitataRun({ format: quick ? "quiet" : "mitata" });
  const p50 = (i: number) => (out.benchmarks[i]?.runs[0]?.stats?.p50 ?? Number.NaN) / 1000;
  const worst = crafted();
  if (!quick) console.log(`crafted 128 KiB input: worst ${worst.worst_ms.toFixed(2)} ms (${worst.worst})`);
  return {
    get_median_us: p50(0),
    form_8k_median_us: p50(1),
    get_inspect_only_median_us: p50(2),
    form_8k_inspect_only_median_us: p50(3),
    form_8k_unseen_inspect_only_median_us: p50(4),
    request_build_median_us: p50(5),
    crafted_128k_worst_ms: worst.worst_ms,
    crafted_128k: worst.detectors,
    target_get_us: 30,
    target_form_8k_us: 200,
    target_form_8k_unseen_inspect_only_us: 400,
    target_crafted_128k_worst_ms: 20,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await run(), null, 2));
}
