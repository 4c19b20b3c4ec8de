// Where the worker bundle's bytes come from (`npm run build -- --analyze`): each output byte is attributed to its
// source file through the bundle's source map, and a file's or a package's gzipped cost is what the gzipped
// bundle would lose without it (leave-one-out), since files compressed alone would overstate small ones.

import { gzipSync } from "node:zlib";
import { decode } from "@jridgewell/sourcemap-codec";

export interface SourceMap {
  sources: string[];
  mappings: string;
}

interface Share {
  name: string;
  raw: number;
  gzip: number;
}

/** The output's byte ranges per source index; bytes no source claims (esbuild's glue) get index -1. */
function rangesBySource(code: string, map: SourceMap): Map<number, [number, number][]> {
  const lineStarts = [0];
  for (let i = code.indexOf("\n"); i !== -1; i = code.indexOf("\n", i + 1)) lineStarts.push(i + 1);
  const ranges = new Map<number, [number, number][]>();
  const claim = (source: number, from: number, to: number) => {
    if (to <= from) return;
    const list = ranges.get(source) ?? [];
    const last = list.at(-1);
    if (last && last[1] === from) last[1] = to;
    else list.push([from, to]);
    ranges.set(source, list);
  };
  const lines = decode(map.mappings);
  lines.forEach((segments, line) => {
    const start = lineStarts[line] ?? code.length;
    const end = (lineStarts[line + 1] ?? code.length + 1) - 1;
    let pos = start;
    let source = -1;
    for (const seg of segments) {
      claim(source, pos, start + seg[0]);
      pos = start + seg[0];
      source = seg.length > 1 ? (seg[1] ?? -1) : -1;
    }
    claim(source, pos, end);
  });
  return ranges;
}

/** A source path as a group: the package (with its first directory, e.g. zod/v4/core) or the repo directory. */
export function groupOf(source: string): string {
  const path = source.replace(/\\/g, "/");
  const nm = path.lastIndexOf("node_modules/");
  if (nm !== -1) {
    const parts = path.slice(nm + "node_modules/".length).split("/");
    const pkg = parts[0]?.startsWith("@") ? parts.slice(0, 2) : parts.slice(0, 1);
    const rest = parts.slice(pkg.length, -1).filter((p) => p !== "dist" && p !== "cjs" && p !== "esm");
    return [...pkg, ...rest.slice(0, 2)].join("/");
  }
  const repo = path.replace(/^(\.\.\/)+/, "");
  return repo.includes("/") ? repo.slice(0, repo.lastIndexOf("/")) : repo;
}

function fileName(source: string): string {
  const path = source.replace(/\\/g, "/");
  const nm = path.lastIndexOf("node_modules/");
  return nm !== -1 ? path.slice(nm + "node_modules/".length) : path.replace(/^(\.\.\/)+/, "");
}

/** Raw bytes and leave-one-out gzipped bytes per key (file or group), largest gzipped first. */
function shares(code: string, byKey: Map<string, [number, number][]>, total: number): Share[] {
  const out: Share[] = [];
  for (const [name, ranges] of byKey) {
    ranges.sort((a, b) => a[0] - b[0]);
    let rest = "";
    let pos = 0;
    let raw = 0;
    for (const [from, to] of ranges) {
      rest += code.slice(pos, from);
      pos = to;
      raw += to - from;
    }
    rest += code.slice(pos);
    out.push({ name, raw, gzip: total - gzipSync(rest, { level: 9 }).length });
  }
  return out.sort((a, b) => b.gzip - a.gzip);
}

export function analyzeBundle(code: string, map: SourceMap) {
  const total = gzipSync(code, { level: 9 }).length;
  const bySource = rangesBySource(code, map);
  const byFile = new Map<string, [number, number][]>();
  const byGroup = new Map<string, [number, number][]>();
  for (const [index, ranges] of bySource) {
    const source = index === -1 ? "(esbuild glue)" : (map.sources[index] ?? "(unknown)");
    const file = index === -1 ? source : fileName(source);
    const group = index === -1 ? source : groupOf(source);
    byFile.set(file, [...(byFile.get(file) ?? []), ...ranges]);
    byGroup.set(group, [...(byGroup.get(group) ?? []), ...ranges]);
  }
  return {
    raw: Buffer.byteLength(code),
    total,
    groups: shares(code, byGroup, total),
    files: shares(code, byFile, total),
  };
}

export function printAnalysis(analysis: ReturnType<typeof analyzeBundle>, top = 25): void {
  const kb = (n: number) => (n / 1024).toFixed(1).padStart(6);
  const table = (title: string, rows: Share[]) => {
    console.log(`\n${title}: KiB gzipped (saved if left out) · KiB raw`);
    for (const r of rows.slice(0, top)) console.log(`${kb(r.gzip)} ${kb(r.raw)}  ${r.name}`);
  };
  table("by package or directory", analysis.groups);
  table("by file", analysis.files);
}
