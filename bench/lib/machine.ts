// What the numbers were measured on: machine, OS, and the versions of every program in the comparison.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";

/** The version line of a program, from stdout or stderr (`nginx -v` prints to stderr, `wrk -v` exits 1). */
const first = (cmd: string, args: string[], re?: RegExp): string => {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 10_000 });
  if (r.error) return "not installed";
  const text = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim();
  return (re ? re.exec(text)?.[1] : text.split("\n")[0]) ?? text.split("\n")[0] ?? "";
};

export function machineInfo(root: string): Record<string, string> {
  const osRelease = readFileSync("/etc/os-release", "utf8");
  const cpus = os.cpus();
  return {
    cpu: `${cpus[0]?.model ?? "unknown"} × ${cpus.length}`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: /PRETTY_NAME="([^"]+)"/.exec(osRelease)?.[1] ?? "linux",
    kernel: os.release(),
    load: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" "),
    // Others commit while the bench runs: say whether the tree measured had uncommitted changes.
    commit:
      first("git", ["-C", root, "rev-parse", "--short", "HEAD"]) +
      (first("git", ["-C", root, "status", "--porcelain", "--untracked-files=no"])
        ? " (with uncommitted changes)"
        : ""),
  };
}

export function versions(root: string): Record<string, string> {
  const pkg = (name: string) => {
    try {
      return JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8"))
        .version as string;
    } catch {
      return "not installed";
    }
  };
  return {
    node: process.version,
    workerd: first(join(root, "node_modules/.bin/workerd"), ["--version"], /workerd (\S+)/),
    wrangler: pkg("wrangler"),
    mitata: pkg("mitata"),
    haproxy: first("haproxy", ["-v"], /version (\S+)/),
    nginx: first("nginx", ["-v"], /nginx\/(\S+)/),
    wrk: first("wrk", ["-v"], /wrk (\S+)/),
    iperf3: first("iperf3", ["-v"], /iperf (\S+)/),
  };
}
