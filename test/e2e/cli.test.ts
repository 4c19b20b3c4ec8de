// `switchyard push` and `diff` against real local Workers KV (wrangler's --local state in a temp directory):
// --env picks that environment's binding and config, unchanged documents are not rewritten, old versions are
// dropped past admin.history, and an invalid file writes nothing.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "switchyard-cli-"));
const state = join(dir, "state");
const toml = join(dir, "wrangler.toml");
const env = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };

writeFileSync(
  toml,
  `name = "cli-test"
compatibility_date = "2026-11-01"

[[kv_namespaces]]
binding = "SWITCHYARD_KV"
id = "11111111111111111111111111111111"

[[vars.SWITCHYARD.services]]
name = "web"
backends = [{ url = "http://127.0.0.1:9001" }]

[[vars.SWITCHYARD.routes]]
name = "production"
service = "web"

[env.staging]
[[env.staging.kv_namespaces]]
binding = "SWITCHYARD_KV"
id = "22222222222222222222222222222222"

[[env.staging.vars.SWITCHYARD.services]]
name = "web"
backends = [{ url = "http://127.0.0.1:9002" }]

[[env.staging.vars.SWITCHYARD.routes]]
name = "staging"
service = "web"

[env.staging.vars.SWITCHYARD.admin]
history = 2
`,
);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function switchyard(...args: string[]) {
  return run(process.execPath, [join(root, "cli/switchyard.ts"), ...args], { cwd: dir, env });
}

async function wranglerKv(...args: string[]): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    [
      join(root, "node_modules/wrangler/bin/wrangler.js"),
      "kv",
      ...args,
      "--binding",
      "SWITCHYARD_KV",
      "--local",
      "--persist-to",
      state,
    ],
    { cwd: dir, env },
  );
  return stdout;
}

const keys = async (...envArgs: string[]) =>
  (JSON.parse(await wranglerKv("key", "list", ...envArgs)) as { name: string }[]).map((k) => k.name).sort();

describe("switchyard push / diff", () => {
  it("--env writes that environment's config to that environment's namespace only", async () => {
    const { stdout } = await switchyard("push", "--env", "staging", "--local", "--persist-to", state);
    expect(stdout).toMatch(/^pushed wrangler.toml to local KV SWITCHYARD_KV \(env staging\) as version 1$/m);
    const doc = JSON.parse(await wranglerKv("key", "get", "config", "--text", "--env", "staging"));
    expect(doc.routes[0].name).toBe("staging");
    expect(await keys("--env", "staging")).toEqual(["config", "config:history", "config:v:1"]);
    expect(await keys()).toEqual([]);
  });

  it("writes nothing when the document is unchanged, unless --force; keeps admin.history versions", async () => {
    const same = await switchyard("push", "--env", "staging", "--persist-to", state);
    expect(same.stdout).toMatch(/already serves this config \(version 1\); nothing written/);
    const forced = await switchyard("push", "--env", "staging", "--persist-to", state, "--force");
    expect(forced.stdout).toMatch(/as version 2/);
    const again = await switchyard("push", "--env", "staging", "--persist-to", state, "--force");
    expect(again.stdout).toMatch(/as version 3/);
    // admin.history = 2: version 1's copy is gone, the history lists 3 and 2.
    expect(await keys("--env", "staging")).toEqual(["config", "config:history", "config:v:2", "config:v:3"]);
    const history = JSON.parse(
      await wranglerKv("key", "get", "config:history", "--text", "--env", "staging"),
    );
    expect(history.map((h: { version: number; source: string }) => [h.version, h.source])).toEqual([
      [3, "cli push"],
      [2, "cli push"],
    ]);
  });

  it("diff shows each change by path; an invalid file is refused before anything is read or written", async () => {
    const file = join(dir, "next.json");
    writeFileSync(
      file,
      JSON.stringify({
        services: [{ name: "web", backends: [{ url: "http://127.0.0.1:9003" }] }],
        routes: [
          { name: "staging", service: "web" },
          { name: "extra", match: { path: { exact: "/x" } }, service: "web" },
        ],
        admin: { history: 2 },
      }),
    );
    const { stdout } = await switchyard(
      "diff",
      file,
      "--env",
      "staging",
      "--persist-to",
      state,
      "--wrangler-config",
      toml,
    );
    expect(stdout).toMatch(/^2 change\(s\) against version 3 in local KV SWITCHYARD_KV \(env staging\):$/m);
    expect(stdout).toContain(
      '~ services[0].backends[0].url: "http://127.0.0.1:9002" → "http://127.0.0.1:9003"',
    );
    expect(stdout).toMatch(/^\+ routes\[1\]: \{"name":"extra",/m);

    writeFileSync(file, JSON.stringify({ routes: [{ name: "r", service: "nope" }] }));
    const bad = await switchyard(
      "push",
      file,
      "--env",
      "staging",
      "--persist-to",
      state,
      "--wrangler-config",
      toml,
    ).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code: number }).code).toBe(1);
    expect((bad as { stderr: string }).stderr).toMatch(/✖ routes\[0\]\.service: .*"nope"/);
    expect(await keys("--env", "staging")).toEqual(["config", "config:history", "config:v:2", "config:v:3"]);
  });
  it("a wrangler failure shows wrangler's own error line, not its log-file pointer", async () => {
    // --persist-to naming a file makes every local wrangler command fail with an unexpected (non-user) error.
    const notADirectory = join(dir, "not-a-directory");
    writeFileSync(notADirectory, "");
    const file = join(dir, "valid.json");
    writeFileSync(
      file,
      JSON.stringify({ services: [{ name: "web", backends: [{ url: "http://127.0.0.1:9003" }] }] }),
    );
    const failed = await switchyard(
      "diff",
      file,
      "--env",
      "staging",
      "--persist-to",
      notADirectory,
      "--wrangler-config",
      toml,
    ).catch((e: { code: number; stderr: string }) => e);
    expect((failed as { code: number }).code).toBe(1);
    const stderr = (failed as { stderr: string }).stderr;
    expect(stderr).toMatch(
      /wrangler kv key list failed \(exit code 1\):\n\S.*\[ERROR\] ENOTDIR: not a directory/,
    );
    expect(stderr).not.toMatch(/If you think this is a bug|Logs were written/);
  });
});
