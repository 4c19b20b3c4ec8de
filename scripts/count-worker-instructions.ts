// npm run profile:worker:instructions [-- --config one|realistic] [-- --requests 1000] [-- --warm 1500] [-- --dist DIR]
// Instructions per request of the production bundle and of the pass-through worker, counted by valgrind's
// callgrind around `workerd serve`: the measure that a shared machine does not disturb (CPU time and req/s on a
// loaded machine move by tens of percent between rounds; these counts by well under 1%). V8 runs with
// --single-threaded so that optimised code is compiled at the same point in every run; counting starts after a
// warm-up and covers user-space instructions of every thread (not the kernel's).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { probe } from "../bench/lib/http-probe.ts";
import { freePort, Procs, stop, stopAll, waitForPort } from "../bench/lib/procs.ts";
import { writePassthroughConfig } from "../bench/workerd/config.ts";
import { buildWorker, startTarget } from "./lib/worker-target.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    config: { type: "string", default: "realistic" },
    requests: { type: "string", default: "1000" },
    warm: { type: "string", default: "1500" },
    dist: { type: "string" },
  },
});
const tmp = mkdtempSync(join(tmpdir(), "sy-instructions-"));
const procs = new Procs(join(tmp, "logs"));
const V8_FLAGS = ["--single-threaded"];

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
  const child = procs.start(
    `valgrind-${name}`,
    "valgrind",
    [
      "--tool=callgrind",
      "--smc-check=all-non-file", // V8 writes the code it runs
      "--instr-atstart=no",
      `--callgrind-out-file=${out}`,
      join(root, "node_modules/.bin/workerd"),
      "serve",
      "--experimental",
      file,
    ],
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
  const control = (arg: string) =>
    execFileSync("callgrind_control", [arg, String(child.pid)], { stdio: "ignore" });
  control("--instr=on");
  await send(port, path, h, n);
  control("--instr=off");
  control("--dump");
  await stop(child);
  let total = 0;
  for (const f of readdirSync(tmp).filter((f) => f.startsWith(`${name}.callgrind`))) {
    const m = /^totals: (\d+)/m.exec(readFileSync(join(tmp, f), "utf8"));
    if (m) total += Number(m[1]);
  }
  return total / n;
}

async function main() {
  const dist = values.dist ?? buildWorker(root, join(tmp, "dist"), true);
  const config = values.config === "one" ? "one" : "realistic";
  const target = await startTarget(root, procs, tmp, config);
  const { wrangler, backends, path, headers } = target;
  const passthrough = await count(
    "passthrough",
    (file, port) => writePassthroughConfig(file, port, backends[0]!, wrangler.compatibilityDate, V8_FLAGS),
    path,
    { ...headers, Host: "bench.example.com" },
  );
  const switchyard = await count(
    "switchyard",
    (file, port) => target.writeSwitchyard(file, port, dist, V8_FLAGS),
    path,
    headers,
  );
  const k = (x: number) => `${(x / 1000).toFixed(1)}k`;
  console.log(`${values.config} config, ${values.requests} requests after ${values.warm} warm-up ones:`);
  console.log(`  pass-through worker   ${k(passthrough)} instructions per request`);
  console.log(`  Switchyard            ${k(switchyard)} instructions per request`);
  console.log(
    `  Switchyard's own      ${k(switchyard - passthrough)} (pass-through / Switchyard = ${(passthrough / switchyard).toFixed(2)})`,
  );
  console.log(`callgrind files (callgrind_annotate --inclusive=yes FILE): ${tmp}`);
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
