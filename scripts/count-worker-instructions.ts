// npm run profile:worker:instructions [-- --config one|realistic|stages] [-- --requests 1000] [-- --warm 4000]
//   [-- --dist DIR] [-- --only bare,log] [-- --no-passthrough] [-- --v8-flags=--perf-basic-prof]
// Instructions per request of the production bundle (or, with --config stages, of the bench's per-stage workers,
// bench/lib/stage-variants.ts), of the pass-through worker and (realistic config) of the floor worker, counted by
// valgrind's callgrind around `workerd serve`: the measure that a shared machine does not disturb (CPU time and req/s on a loaded machine move by tens
// of percent between rounds; these counts by a few percent, mostly garbage collections falling into the window or
// not). V8 runs with --single-threaded so that optimised code is compiled at the same point in every run;
// counting starts after a warm-up and covers user-space instructions of every thread (not the kernel's).
import { mkdtempSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { probe } from "../bench/lib/http-probe.ts";
import { freePort, Procs, stop, stopAll, waitForPort } from "../bench/lib/procs.ts";
import { stageSpecs, writeStageConfig } from "../bench/lib/stage-variants.ts";
import { writePassthroughConfig } from "../bench/workerd/config.ts";
import { callgrind, totalInstructions, windowed } from "./lib/callgrind.ts";
import { buildWorker, startTarget } from "./lib/worker-target.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    config: { type: "string", default: "realistic" },
    requests: { type: "string", default: "1000" },
    // Fewer, and V8 still compiles the WAF's larger functions while the realistic config is counted (~100k
    // instructions a request of one-time work at 1,500).
    warm: { type: "string", default: "4000" },
    dist: { type: "string" },
    /** With --config stages: only these variants (comma-separated keys, e.g. bare,log). */
    only: { type: "string" },
    /** More V8 flags, e.g. --perf-basic-prof: /tmp/perf-PID.map then names the JIT code's addresses. */
    "v8-flags": { type: "string" },
    /** Skip the pass-through and floor workers (their counts do not depend on Switchyard's code). */
    "no-passthrough": { type: "boolean", default: false },
  },
});
const tmp = mkdtempSync(join(tmpdir(), "sy-instructions-"));
const procs = new Procs(join(tmp, "logs"));
const V8_FLAGS = ["--single-threaded", ...(values["v8-flags"]?.split(" ") ?? [])];

/** `n` GETs over 4 keep-alive connections; throws on any status other than 200. */
async function send(port: number, path: string, headers: Record<string, string>, n: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  let left = n;
  const one = async () => {
    while (left-- > 0) {
      await new Promise<void>((resolve, reject) => {
        http
          .get({ host: "127.0.0.1", port, path, headers, agent }, (res) => {
            res.resume();
            res.on("end", () =>
              res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`)),
            );
          })
          .on("error", reject);
      });
    }
  };
  try {
    await Promise.all([one(), one(), one(), one()]);
  } finally {
    agent.destroy();
  }
}

/** Runs one worker under callgrind and returns its instructions per request. */
async function count(
  name: string,
  write: (file: string, port: number) => void,
  path: string,
  headers: Record<string, string>,
) {
  const port = await freePort();
  const file = join(tmp, `${name}.capnp`);
  write(file, port);
  const out = join(tmp, `${name}.callgrind`);
  const [valgrind, ...wrap] = callgrind(out);
  const child = procs.start(
    `valgrind-${name}`,
    valgrind!,
    [...wrap, join(root, "node_modules/.bin/workerd"), "serve", "--experimental", file],
    { cwd: tmp },
  );
  await waitForPort(port, 120_000, child);
  let cookie: string | undefined;
  for (let i = 0; ; i++) {
    try {
      cookie = (await probe(port, path, headers)).cookie;
      break;
    } catch (err) {
      if (i === 5) throw err; // the first request compiles everything, slowly under valgrind
    }
  }
  const h = cookie ? { ...headers, Cookie: cookie } : headers;
  const n = Number(values.requests);
  await send(port, path, h, Number(values.warm));
  await windowed(child.pid!, () => send(port, path, h, n));
  await stop(child);
  const total = totalInstructions(out);
  return total / n;
}

const k = (x: number) => `${(x / 1000).toFixed(1)}k`;

async function main() {
  const config = values.config === "one" || values.config === "stages" ? values.config : "realistic";
  const target = await startTarget(root, procs, tmp, config === "realistic" ? "realistic" : "one");
  const { wrangler, backends, path, headers } = target;
  console.log(`${config} config, ${values.requests} requests after ${values.warm} warm-up ones:`);
  let passthrough = Number.NaN;
  if (!values["no-passthrough"]) {
    passthrough = await count(
      "passthrough",
      (file, port) => writePassthroughConfig(file, port, backends[0]!, wrangler.compatibilityDate, V8_FLAGS),
      path,
      { ...headers, Host: "bench.example.com" },
    );
    console.log(`  pass-through worker   ${k(passthrough)} instructions per request`);
  }
  if (config === "stages") return countStages(passthrough, target);
  if (config === "realistic" && !values["no-passthrough"]) {
    // The realistic config's floor (bench/workerd/floor.js): its native calls without Switchyard's logic.
    const floor = await count(
      "floor",
      (file, port) =>
        writePassthroughConfig(file, port, backends[0]!, wrangler.compatibilityDate, V8_FLAGS, "floor.js"),
      path,
      { ...headers, Host: "bench.example.com" },
    );
    console.log(`  floor worker          ${k(floor)} instructions per request (bench/workerd/floor.js)`);
  }
  const dist = values.dist ?? buildWorker(root, join(tmp, "dist"), true);
  const switchyard = await count(
    "switchyard",
    (file, port) => target.writeSwitchyard(file, port, dist, V8_FLAGS),
    path,
    headers,
  );
  console.log(`  Switchyard            ${k(switchyard)} instructions per request`);
  if (!Number.isNaN(passthrough)) {
    console.log(
      `  Switchyard's own      ${k(switchyard - passthrough)} (pass-through / Switchyard = ${(passthrough / switchyard).toFixed(2)})`,
    );
  }
  console.log(`callgrind files (callgrind_annotate --inclusive=yes FILE): ${tmp}`);
}

/** Each stage as the difference to "bare"; bare's own row as the difference to the pass-through worker. */
async function countStages(passthrough: number, target: Awaited<ReturnType<typeof startTarget>>) {
  const { wrangler, backends, path, headers } = target;
  let bare = Number.NaN;
  const only = values.only?.split(",");
  for (const s of await stageSpecs(root, join(tmp, "stages"), backends)) {
    if (only && !only.includes(s.key)) continue;
    const n = await count(s.key, (file, port) => writeStageConfig(s, file, port, wrangler, V8_FLAGS), path, {
      ...headers,
      Host: s.host,
    });
    if (s.key === "bare") bare = n;
    const base = s.key === "bare" ? passthrough : bare;
    const what = s.key === "bare" ? "bare − pass-through" : `${s.key} − bare`;
    console.log(`  ${s.key.padEnd(20)}  ${k(n)} instructions per request; ${what}: ${k(n - base)}`);
  }
  console.log(`callgrind files (callgrind_annotate --inclusive=yes FILE): ${tmp}`);
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
