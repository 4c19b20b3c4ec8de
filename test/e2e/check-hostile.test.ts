// `switchyard check` on configs built to crash a checker: a rules expression nested 1,700 deep and one with
// 2,000 or terms. The first is a problem with its path and exit code 1, the second passes; never a trace.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "switchyard-check-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function check(expression: string): Promise<{ code: number; out: string }> {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.json`);
  const config = {
    services: [{ name: "web", backends: [{ url: "http://10.0.0.1:8080" }] }],
    routes: [{ name: "all", service: "web" }],
    waf: { rules: [{ id: "r", expression, action: "block" }] },
  };
  writeFileSync(file, JSON.stringify(config));
  return new Promise((resolve) => {
    execFile(process.execPath, ["cli/switchyard.ts", "check", file], { cwd: root }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
    });
  });
}

describe("switchyard check on hostile rules", () => {
  it("reports 1,700 nested parentheses as a problem with its path", async () => {
    const r = await check(`${"(".repeat(1700)}http.host eq "a"${")".repeat(1700)}`);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/waf\.rules\[0\]\.expression: .*nests more than 100 levels/);
    expect(r.out).not.toMatch(/RangeError|\n\s+at /);
  });

  it("accepts 2,000 or terms", async () => {
    const r = await check(Array.from({ length: 2000 }, (_, i) => `http.host eq "h${i}"`).join(" or "));
    expect(r.out).not.toMatch(/RangeError|\n\s+at /);
    expect(r.code).toBe(0);
  });
});
