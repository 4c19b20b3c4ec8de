// Both commands on a wrangler.jsonc (Cloudflare's default format for new projects) and wrangler.json: `switchyard
// check` finds it as wrangler does when no file is named, the sidecar's --config reads it; and --version.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
const cli = join(root, "bin/switchyard.mjs");
const sidecar = join(root, "bin/switchyard-l4.mjs");
const dir = mkdtempSync(join(tmpdir(), "switchyard-files-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = `{
  // a wrangler.jsonc as \`npm create cloudflare\` writes it, with the Switchyard config in vars
  "name": "edge",
  "main": "worker/src/index.ts",
  "compatibility_date": "2026-11-01",
  "vars": {
    "SWITCHYARD": {
      "services": [
        { "name": "redis", "backends": [{ "address": "127.0.0.1:6379" }] },
      ],
      "listeners": [{ "name": "redis", "listen": "127.0.0.1:16379", "service": "redis" }],
    },
  },
}
`;

async function exec(file: string, args: string[], cwd = dir) {
  try {
    const { stdout, stderr } = await run(process.execPath, [file, ...args], { cwd });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const { code, stdout, stderr } = e as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

describe("wrangler.json and wrangler.jsonc", () => {
  it("switchyard check reads the wrangler.jsonc of the working directory when no file is named", async () => {
    writeFileSync(join(dir, "wrangler.jsonc"), config);
    const r = await exec(cli, ["check"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^wrangler\.jsonc: config OK/);
    expect(r.stdout).toContain("redis: tcp 127.0.0.1:16379 → redis");
  });

  it("switchyard check reports a wrangler.json's problems with their paths, not wrangler's own fields", async () => {
    const bad = JSON.parse(config.replace(/\/\/.*\n/, "").replace(/,(\s*[}\]])/g, "$1"));
    bad.vars.SWITCHYARD.listeners[0].service = "redsi";
    writeFileSync(join(dir, "wrangler.json"), JSON.stringify(bad));
    const r = await exec(cli, ["check", "wrangler.json"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("wrangler.json: 1 problem:");
    expect(r.stderr).toContain('listeners[0].service: no service named "redsi"');
  });

  it("switchyard-l4 --check --config wrangler.jsonc validates the same document", async () => {
    const r = await exec(sidecar, ["--check", "--config", join(dir, "wrangler.jsonc")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("redis: tcp 127.0.0.1:16379 → redis");
  });

  it("both commands print their version", async () => {
    const { version } = (await import("../../package.json", { with: { type: "json" } })).default;
    expect((await exec(cli, ["--version"])).stdout.trim()).toBe(`switchyard ${version}`);
    expect((await exec(sidecar, ["--version"])).stdout).toMatch(
      new RegExp(`^switchyard-l4 ${version.replace(/\./g, "\\.")} \\(node v\\d+`),
    );
  });
});
