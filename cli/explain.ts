// `switchyard explain 'GET https://api.example.com/v1/x' -H 'x-tenant: acme'`: the admin API's GET /explain,
// offline, from a local config: the same evaluation (core/explain) and the same WAF engine as the worker.
import { parseArgs } from "node:util";
import { ConfigError, renderProblem } from "../core/config/errors.ts";
import { checkConfig } from "../core/config/parse.ts";
import { explainRequest, renderExplanation } from "../core/explain/index.ts";
import { compileWaf } from "../core/waf/policy.ts";
import { wafExplainer } from "../worker/src/admin/waf-explain.ts";
import { defaultConfigFile } from "./config-file.ts";
import { readLocalConfig } from "./push.ts";

export const EXPLAIN_USAGE = `  explain '<METHOD> <url>'  which route, rate limits, WAF rules and backend a request would get, and why
                 options: -H 'name: value' (repeatable), --ip <client ip>, --config <file> (default
                          the wrangler config here), --env <name>, --json
`;

export function explain(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      header: { type: "string", short: "H", multiple: true, default: [] },
      ip: { type: "string" },
      config: { type: "string", short: "c" },
      env: { type: "string", short: "e" },
      json: { type: "boolean", default: false },
    },
  });
  const words = positionals.join(" ").trim().split(/\s+/);
  const [method, target] = words.length >= 2 ? [words[0]!, words[1]!] : ["GET", words[0] ?? ""];
  try {
    new URL(target);
  } catch {
    console.error(
      `switchyard explain: ${JSON.stringify(target)} is not an absolute URL (e.g. 'GET https://example.com/')`,
    );
    return 1;
  }
  const headers: [string, string][] = [];
  for (const h of values.header) {
    const colon = h.indexOf(":");
    if (colon <= 0) {
      console.error(`switchyard explain: -H ${JSON.stringify(h)} is not "name: value"`);
      return 1;
    }
    headers.push([h.slice(0, colon), h.slice(colon + 1)]);
  }
  const file = values.config ?? defaultConfigFile();
  let raw: unknown;
  try {
    raw = readLocalConfig(file, values.env);
  } catch (e) {
    console.error(
      e instanceof ConfigError ? e.message : `switchyard: cannot read ${file}: ${(e as Error).message}`,
    );
    return 1;
  }
  const { config, problems } = checkConfig(raw);
  if (!config) {
    console.error(`${file}: ${problems.length} problem(s):`);
    for (const p of problems) console.error(`  ✖ ${renderProblem(p)}`);
    return 1;
  }
  const e = explainRequest(
    config,
    { method, url: target, headers, clientIp: values.ip },
    { waf: wafExplainer(compileWaf(config)) },
  );
  console.log(values.json ? JSON.stringify(e, null, 2) : renderExplanation(e));
  return 0;
}
