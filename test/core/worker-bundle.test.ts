// What the worker bundle leaves out by design: the config schema's descriptions (only the JSON Schema generator
// reads them) and the dashboard page (a static asset). Bundled here with esbuild, as wrangler bundles the worker.
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { generateJsonSchema } from "../../core/config/json-schema.ts";

async function workerBundle(): Promise<string> {
  const result = await build({
    entryPoints: ["worker/src/index.ts"],
    bundle: true,
    write: false,
    format: "esm",
    minify: true,
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    external: ["cloudflare:*", "node:*"],
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

function descriptions(node: unknown, found: string[] = []): string[] {
  if (node === null || typeof node !== "object") return found;
  for (const [key, value] of Object.entries(node)) {
    if (key === "description" && typeof value === "string") found.push(value);
    else descriptions(value, found);
  }
  return found;
}

describe("the worker bundle", () => {
  it("validates configs but carries none of the schema's descriptions, nor the dashboard page", async () => {
    const code = await workerBundle();
    expect(code).toContain("a service needs at least one backend");
    // The longest stretch of each description without quotes or escapes (however minified code quotes it), if
    // long enough to mean that text.
    const probe = (text: string) => text.split(/["'`\\]/).sort((a, b) => b.length - a.length)[0]!;
    const probes = descriptions(generateJsonSchema())
      .map(probe)
      .filter((p) => p.length >= 20);
    expect(probes.length).toBeGreaterThan(100);
    expect(probes.filter((p) => code.includes(p))).toEqual([]);
    expect(code).not.toContain("Open dashboard");
  });
});
