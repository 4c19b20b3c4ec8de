// `switchyard deploy` end to end without the internet: the real `wrangler deploy` and `wrangler kv`, driven by
// switchyard, against a local stand-in for the Cloudflare API (helpers/cloudflare-api.ts) that records the script
// upload, the static assets and the KV writes and refuses a variable over 5 KB, as the real API does.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { stringify as toToml } from "smol-toml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConfigInput } from "../../core/config/index.ts";
import { CONFIG_KEY, documentText, HISTORY_KEY, versionKey } from "../../core/config/store.ts";
import { CloudflareApi, VAR_LIMIT_BYTES } from "./helpers/cloudflare-api.ts";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "switchyard-deploy-"));
const ACCOUNT = "0123456789abcdef0123456789abcdef";
const NAMESPACE = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
let api: CloudflareApi;

beforeAll(async () => {
  api = await new CloudflareApi().start();
});
afterAll(async () => {
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A wrangler config like the repository's: the worker, its dashboard asset, Durable Objects, cron and KV binding. */
function wranglerConfig(name: string, config: ConfigInput) {
  return {
    name,
    main: join(root, "worker/src/index.ts"),
    compatibility_date: "2026-11-01",
    assets: { directory: join(root, "worker/assets"), binding: "ASSETS", run_worker_first: true },
    vars: { SWITCHYARD: config },
    durable_objects: {
      bindings: [
        { name: "RATE_LIMITER", class_name: "RateLimiter" },
        { name: "HEALTH_CHECKER", class_name: "HealthChecker" },
        { name: "METRICS", class_name: "MetricsAggregator" },
      ],
    },
    migrations: [{ tag: "v1", new_sqlite_classes: ["RateLimiter", "HealthChecker", "MetricsAggregator"] }],
    triggers: { crons: ["* * * * *"] },
    kv_namespaces: [{ binding: "SWITCHYARD_KV", id: NAMESPACE }],
  };
}

/** `routes` routes, each to its own path prefix, over one service. */
function config(routes: number, tag = "a"): ConfigInput {
  return {
    services: [{ name: "api", backends: [{ url: "https://origin.example.com" }] }],
    routes: Array.from({ length: routes }, (_, i) => ({
      name: `route-${tag}-${i}`,
      match: { host: "api.example.com", path: { prefix: `/v1/${tag}/resource-${i}` } },
      service: "api",
    })),
  };
}

async function switchyard(args: string[]) {
  const env = {
    ...process.env,
    CLOUDFLARE_API_BASE_URL: api.url,
    CLOUDFLARE_API_TOKEN: "dummy-token",
    CLOUDFLARE_ACCOUNT_ID: ACCOUNT,
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_LOG_PATH: join(dir, "logs"),
  };
  try {
    const r = await run(process.execPath, [join(root, "bin/switchyard.mjs"), ...args], { cwd: dir, env });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const { code, stdout, stderr } = e as { code: number; stdout: string; stderr: string };
    return { code, out: stdout + stderr };
  }
}

describe("switchyard deploy against the API stand-in", { timeout: 240_000 }, () => {
  it("deploys a small config as the SWITCHYARD variable, with the worker's bindings, migrations and cron", async () => {
    const small = config(3);
    writeFileSync(join(dir, "wrangler.toml"), toToml(wranglerConfig("small", small)));
    const r = await switchyard(["deploy", "--config", "wrangler.toml"]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain("the worker serves vars.SWITCHYARD");

    const upload = api.scripts.get("small")!.upload;
    const b = api.bindings("small");
    expect(b.get("SWITCHYARD")).toMatchObject({ type: "json", json: small });
    expect(b.has("SWITCHYARD_KV_VERSION")).toBe(false);
    expect(b.get("SWITCHYARD_KV")).toMatchObject({ type: "kv_namespace", namespace_id: NAMESPACE });
    expect(b.get("RATE_LIMITER")).toMatchObject({
      type: "durable_object_namespace",
      class_name: "RateLimiter",
    });
    expect(upload.metadata.migrations).toMatchObject({ new_tag: "v1" });
    expect(upload.metadata.compatibility_date).toBe("2026-11-01");
    expect(api.schedules.get("small")).toEqual(["* * * * *"]);
    expect(api.namespace(NAMESPACE).size).toBe(0);

    // The dashboard page goes up as a static asset, and every request still runs the worker first.
    expect(b.get("ASSETS")).toMatchObject({ type: "assets" });
    expect(upload.metadata.assets?.config).toMatchObject({ run_worker_first: true });
    expect(upload.assets?.get("/dashboard.html")).toEqual(
      readFileSync(join(root, "worker/assets/dashboard.html")),
    );
  });

  it("a second deploy with the same page uploads no asset again and keeps it bound", async () => {
    const stored = api.assetStore.size;
    const uploads = api.requests.filter((r) => r === "POST /workers/assets/upload").length;
    const r = await switchyard(["deploy", "--config", "wrangler.toml"]);
    expect(r.code, r.out).toBe(0);
    expect(api.requests.filter((r) => r === "POST /workers/assets/upload").length).toBe(uploads);
    expect(api.assetStore.size).toBe(stored);
    expect(api.scripts.get("small")!.upload.assets?.has("/dashboard.html")).toBe(true);
  });

  const big = config(300);
  const bigFile = join(dir, "wrangler.json");

  it("a 300-route config is refused by the API as a variable (the stand-in enforces 5 KB)", async () => {
    expect(JSON.stringify(big).length).toBeGreaterThan(VAR_LIMIT_BYTES);
    writeFileSync(bigFile, JSON.stringify(wranglerConfig("big", big)));
    const env = {
      ...process.env,
      CLOUDFLARE_API_BASE_URL: api.url,
      CLOUDFLARE_API_TOKEN: "dummy-token",
      CLOUDFLARE_ACCOUNT_ID: ACCOUNT,
      WRANGLER_LOG_PATH: join(dir, "logs"),
    };
    const wrangler = join(root, "node_modules/wrangler/bin/wrangler.js");
    const plain = await run(process.execPath, [wrangler, "deploy", "--config", bigFile], {
      cwd: dir,
      env,
    }).then(
      () => "accepted",
      (e: { stdout: string; stderr: string }) => e.stdout + e.stderr,
    );
    expect(plain).toMatch(/Text binding 'SWITCHYARD' is over the size limit of 5 KB/);
    expect(api.scripts.has("big")).toBe(false);
  });

  it("a 300-route config goes to KV first, and the worker is deployed with a small variable pinned to it", async () => {
    const r = await switchyard(["deploy", "--config", "wrangler.json"]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain("the worker serves version 1 from remote KV SWITCHYARD_KV");

    const ns = api.namespace(NAMESPACE);
    expect(ns.get(CONFIG_KEY)?.value).toBe(documentText(big));
    expect(ns.get(CONFIG_KEY)?.metadata).toMatchObject({ version: 1, source: "switchyard deploy" });
    expect(ns.get(versionKey(1))?.value).toBe(documentText(big));
    expect(JSON.parse(ns.get(HISTORY_KEY)!.value)).toMatchObject([{ version: 1 }]);

    const b = api.bindings("big");
    expect(b.get("SWITCHYARD_KV_VERSION")).toMatchObject({ type: "plain_text", text: "1" });
    const stub = b.get("SWITCHYARD")!;
    expect(stub.type).toBe("plain_text");
    expect(Buffer.byteLength(stub.text!)).toBeLessThan(VAR_LIMIT_BYTES);
    expect(JSON.parse(stub.text!)).not.toHaveProperty("routes");
    expect(api.scripts.get("big")!.upload.metadata.migrations).toMatchObject({ new_tag: "v1" });
  });

  it("a refused upload halfway leaves the previous worker and the previous live config", async () => {
    const before = { etag: api.scripts.get("big")!.etag, kv: new Map(api.namespace(NAMESPACE)) };
    writeFileSync(bigFile, JSON.stringify(wranglerConfig("big", config(301, "b"))));
    // Refuse the upload whichever way wrangler sends it (a whole script, or a version of an existing one).
    api.fail({ path: /^\/workers\/scripts\/big(\/versions)?$/, status: 400, message: "refused by the test" });
    const r = await switchyard(["deploy", "--config", "wrangler.json"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      "wrangler deploy failed; the previous worker is still live with its config (KV version 1)",
    );
    expect(api.scripts.get("big")!.etag).toBe(before.etag);
    expect(api.bindings("big").get("SWITCHYARD_KV_VERSION")?.text).toBe("1");
    // KV exactly as before: the copy of version 2 written ahead of the upload was removed again.
    expect(new Map(api.namespace(NAMESPACE))).toEqual(before.kv);
  });

  it("a failure after the upload leaves the new worker serving its own version, never old config on new code", async () => {
    // The first bulk write (the copy of version 2) passes; the second (moving `config` to it) is refused.
    api.fail(
      { method: "PUT", path: /^\/storage\/kv\/namespaces\/[^/]+\/bulk$/, status: 400, message: "refused" },
      1,
    );
    const r = await switchyard(["deploy", "--config", "wrangler.json"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("the worker is deployed and serves version 2 from config:v:2");
    const ns = api.namespace(NAMESPACE);
    expect(api.bindings("big").get("SWITCHYARD_KV_VERSION")?.text).toBe("2");
    expect(JSON.parse(ns.get(versionKey(2))!.value).routes).toHaveLength(301);
    expect(ns.get(CONFIG_KEY)?.metadata).toMatchObject({ version: 1 });
  });

  it("refuses an environment without its own vars.SWITCHYARD (wrangler does not inherit vars) before any upload", async () => {
    const doc = { ...wranglerConfig("envs", config(2)), env: { staging: { name: "envs-staging" } } };
    writeFileSync(join(dir, "envs.json"), JSON.stringify(doc));
    const uploads = api.uploads.length;
    const r = await switchyard(["deploy", "--config", "envs.json", "--env", "staging"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      "env.staging has no vars.SWITCHYARD. wrangler does not inherit vars into an environment",
    );
    expect(api.uploads.length).toBe(uploads);
  });

  it("refuses static assets Cloudflare would answer before the worker, and warns when the dashboard has none", async () => {
    const before = api.uploads.length;
    const open = {
      ...wranglerConfig("assets-open", config(2)),
      assets: { directory: "assets", binding: "ASSETS" },
    };
    writeFileSync(join(dir, "open.json"), JSON.stringify(open));
    const refused = await switchyard(["deploy", "--config", "open.json"]);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain("[assets] without run_worker_first = true");
    expect(api.uploads.length).toBe(before);

    const { assets: _, ...bare } = wranglerConfig("no-assets", config(2));
    writeFileSync(join(dir, "bare.json"), JSON.stringify(bare));
    const r = await switchyard(["deploy", "--config", "bare.json"]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('no [assets] binding "ASSETS": the admin dashboard');
    expect(api.bindings("no-assets").has("ASSETS")).toBe(false);
  });

  it("refuses a config over the variable limit when there is no KV binding to carry it", async () => {
    const { kv_namespaces: _, ...noKv } = wranglerConfig("nokv", config(300));
    writeFileSync(join(dir, "nokv.json"), JSON.stringify(noKv));
    const r = await switchyard(["deploy", "--config", "nokv.json"]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /vars\.SWITCHYARD is \d+ KB, over Cloudflare's 5\.0 KB variable limit, and there is no KV binding/,
    );
    expect(r.out).toContain("nothing was deployed");
    expect(api.scripts.has("nokv")).toBe(false);
  });
});
