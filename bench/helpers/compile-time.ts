// Child process: how long config load takes for N routes: parseConfig (validation) and the route compiler that
// core/routing exports. A fresh process, so the first run is the cold start a worker isolate pays.
// Usage: node bench/helpers/compile-time.ts <routes> <runs>; prints one JSON line.
import { parseConfig } from "../../core/config/parse.ts";
import { manyRoutesConfig } from "../lib/configs.ts";

const n = Number(process.argv[2] ?? 10_000);
const runs = Number(process.argv[3] ?? 5);
const routing = (await import("../../core/routing/index.ts").catch(() => ({}))) as Record<string, unknown>;
const compileName = ["compileRouteTable", "compileRoutes", "compile"].find(
  (k) => typeof routing[k] === "function",
);
const compile = compileName ? (routing[compileName] as (routes: unknown) => unknown) : undefined;

const parse: number[] = [];
const comp: number[] = [];
for (let i = 0; i < runs; i++) {
  const doc = manyRoutesConfig(n); // a fresh object each time: parseConfig freezes what it returns
  const t0 = performance.now();
  const config = parseConfig(doc);
  const t1 = performance.now();
  if (compile) compile(config.routes);
  const t2 = performance.now();
  parse.push(t1 - t0);
  comp.push(t2 - t1);
}
console.log(
  JSON.stringify({ routes: n, compileName: compileName ?? null, parse, compile: compile ? comp : null }),
);
