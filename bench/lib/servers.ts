// The peers and backends the bench runs: nginx (a small fixed body), HAProxy (http or tcp mode), iperf3 server.
// Each writes its config under the run's temp directory and listens on 127.0.0.1 only.
import type { ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Procs, waitForListen, waitForPort } from "./procs.ts";

/** The open-files limit children may raise to: the hard limit here is 20000 for everyone, root included. */
export const NOFILE = 20000;

export const BODY = "hello from nginx\n";

export async function startNginx(
  procs: Procs,
  dir: string,
  ports: number[],
  label = "nginx",
): Promise<ChildProcess> {
  const root = join(dir, label);
  mkdirSync(join(root, "logs"), { recursive: true });
  const conf = join(root, "nginx.conf");
  writeFileSync(
    conf,
    `# Backend for the bench: one worker, keep-alive forever, a fixed small body.
worker_processes 1;
daemon off;
user root;
pid ${root}/nginx.pid;
error_log ${root}/logs/error.log warn;
worker_rlimit_nofile ${NOFILE - 100};
events { worker_connections ${NOFILE - 200}; }
http {
  access_log off;
  client_body_temp_path ${root}/body;
  proxy_temp_path ${root}/proxy;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  server {
${ports.map((p) => `    listen 127.0.0.1:${p} backlog=4096;`).join("\n")}
    location / { default_type text/plain; return 200 ${JSON.stringify(BODY.replace("\n", ""))}; }
  }
}
`,
  );
  const child = procs.start(label, "nginx", ["-p", root, "-c", conf, "-e", join(root, "logs/error.log")], {
    nofile: NOFILE,
  });
  for (const p of ports) await waitForPort(p, 10_000, child);
  return child;
}

export interface HaproxyOptions {
  mode: "http" | "tcp";
  listen: number;
  backend: string;
  maxconn?: number;
  /** nbthread (default 1); "default" leaves it out, so HAProxy runs one thread per core it may use. */
  threads?: number | "default";
  label: string;
  /** A program to run HAProxy under, with its options (valgrind for scripts/count-sidecar-costs.ts). */
  wrap?: string[];
}

/** HAProxy with one thread unless asked: workerd runs a worker's JavaScript on one thread, and the machine has 2 cores. */
export async function startHaproxy(procs: Procs, dir: string, o: HaproxyOptions): Promise<ChildProcess> {
  const conf = join(dir, `${o.label}.cfg`);
  const maxconn = o.maxconn ?? 4000;
  writeFileSync(
    conf,
    `global
  maxconn ${maxconn}
${o.threads === "default" ? "" : `  nbthread ${o.threads ?? 1}\n`}defaults
  mode ${o.mode}
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  maxconn ${maxconn}
frontend fe
  bind 127.0.0.1:${o.listen}
  default_backend be
backend be
  server s1 ${o.backend} maxconn ${maxconn}
`,
  );
  const [cmd, ...pre] = [...(o.wrap ?? []), "haproxy"];
  const child = procs.start(o.label, cmd!, [...pre, "-db", "-f", conf], { nofile: NOFILE });
  await waitForPort(o.listen, o.wrap ? 120_000 : 10_000, child);
  return child;
}

/** Waits for the listening socket without connecting: a probe connection would occupy iperf3's one slot. */
export async function startIperfServer(procs: Procs, port: number): Promise<ChildProcess> {
  const child = procs.start("iperf3-server", "iperf3", ["-s", "-B", "127.0.0.1", "-p", String(port)]);
  await waitForListen(port, 10_000, child);
  return child;
}
