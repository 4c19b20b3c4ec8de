// Every SY_ error code in the source is documented in docs/errors.md: users grep for a code they got, and a code
// added without its row would send them nowhere.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const SOURCE_DIRS = ["core", "worker/src", "l4-sidecar/src", "cli"];
const CODE = /\bSY_[A-Z][A-Z0-9_]*[A-Z0-9]\b/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|tsx)$/.test(name) ? [path] : [];
  });
}

/** code → the files it appears in. */
function codesInSource(): Map<string, string[]> {
  const codes = new Map<string, string[]>();
  for (const dir of SOURCE_DIRS) {
    for (const file of sourceFiles(join(root, dir))) {
      for (const [code] of readFileSync(file, "utf8").matchAll(CODE)) {
        const files = codes.get(code) ?? [];
        files.push(file.slice(root.length + 1));
        codes.set(code, files);
      }
    }
  }
  return codes;
}

describe("docs/errors.md", () => {
  const documented = new Set(readFileSync(join(root, "docs/errors.md"), "utf8").match(CODE));
  const used = codesInSource();

  it("finds the codes it checks (the scan is not empty)", () => {
    expect(used.size).toBeGreaterThan(15);
    expect([...used.keys()]).toEqual(expect.arrayContaining(["SY_NO_ROUTE", "SY_CONNECT_REFUSED"]));
  });

  it("has a row for every code in the source", () => {
    const missing = [...used].filter(([code]) => !documented.has(code)).map(([c, f]) => `${c} (${f[0]})`);
    expect(missing).toEqual([]);
  });
});
