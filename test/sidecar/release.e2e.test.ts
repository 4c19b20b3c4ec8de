// The sidecar's release, tested as a VM gets it rather than from the tree: `npm run release:sidecar` builds the
// tarball and the .deb, which are unpacked into temporary roots outside the repository (no node_modules above
// them, no TypeScript, no compiler). Each shape prints its version on the native engine and checks a config; the
// .deb's executable carries real redis-server traffic and reports data_path native on /status; its systemd unit
// passes `systemd-analyze verify` and keeps its `systemd-analyze security` exposure low.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, onCleanup, ROOT, spawnSidecar, waitFor } from "./helpers.ts";

const { version } = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };
const dist = path.join(ROOT, "dist/sidecar");
const tarball = path.join(dist, `switchyard-l4-${version}-linux-x64.tar.gz`);
const deb = path.join(dist, `switchyard-l4_${version}_amd64.deb`);
const TOOLS = ["redis-server", "redis-cli", "systemd-analyze", "dpkg-deb", "strip"];
const have = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;

const tmp = mkdtempSync(path.join(tmpdir(), "switchyard-release-"));
const tarRoot = path.join(tmp, "tar");
const debRoot = path.join(tmp, "deb");
const fromTar = path.join(tarRoot, `switchyard-l4-${version}-linux-x64`);
// A PATH without the project's node_modules/.bin: the release must not reach the tree's Node or packages.
const env = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOME: tmp };

beforeAll(() => {
  if (!TOOLS.every(have))
    execFileSync("bash", [path.join(ROOT, "scripts/ensure-debian-tools.sh")], { stdio: "inherit" });
  const missing = TOOLS.filter((t) => !have(t));
  if (missing.length) throw new Error(`missing ${missing.join(", ")}: run scripts/ensure-debian-tools.sh`);
  execFileSync(process.execPath, [path.join(ROOT, "scripts/release-sidecar.ts")], {
    cwd: ROOT,
    stdio: "inherit",
  });
  mkdirSync(tarRoot);
  execFileSync("tar", ["-xzf", tarball, "-C", tarRoot]);
  execFileSync("dpkg-deb", ["-x", deb, debRoot]);
}, 900_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function exec(file: string, args: string[]) {
  const r = spawnSync(file, args, { cwd: tmp, env, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("sidecar release", () => {
  it("the temporary roots are out of the repository's reach", () => {
    expect(path.relative(ROOT, tmp).startsWith("..")).toBe(true);
    for (let dir = tmp; dir !== path.dirname(dir); dir = path.dirname(dir)) {
      expect(existsSync(path.join(dir, "node_modules")), dir).toBe(false);
    }
  });

  it("holds one executable, the bundle, the prebuilt engine, the unit and an example config, and no TypeScript", () => {
    const files = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).trim().split("\n");
    const name = `switchyard-l4-${version}-linux-x64/`;
    expect(files).toEqual(
      expect.arrayContaining([
        `${name}bin/switchyard-l4`,
        `${name}lib/switchyard-l4/switchyard-l4.cjs`,
        `${name}lib/switchyard-l4/prebuilds/linux-x64/node.napi.uv1.glibc.node`,
        `${name}etc/switchyard-l4.service`,
        `${name}etc/sidecar.json`,
      ]),
    );
    expect(files.filter((f) => f.endsWith(".ts"))).toEqual([]);
    const control = execFileSync("dpkg-deb", ["-f", deb, "Depends", "Package"], { encoding: "utf8" });
    expect(control).toMatch(/^Depends: libc6 \(>= 2\.28\), libstdc\+\+6 \(>= 8\), libgcc-s1$/m);
  });

  it.each([
    ["the tarball's executable", () => [path.join(fromTar, "bin/switchyard-l4")]],
    ["the .deb's executable", () => [path.join(debRoot, "usr/bin/switchyard-l4")]],
    [
      "the bundle on a plain Node 22",
      () => [process.execPath, path.join(fromTar, "lib/switchyard-l4/switchyard-l4.cjs")],
    ],
  ])("%s prints its version on the native engine and checks the example config", (_, program) => {
    const [file, ...pre] = program();
    const v = exec(file!, [...pre, "--version"]);
    expect(v.err).toBe("");
    expect(v.out.trim()).toMatch(
      new RegExp(
        `^switchyard-l4 ${version.replace(/\./g, "\\.")} \\(node v22\\.[\\d.]+, linux-x64, data path: native\\)$`,
      ),
    );
    const c = exec(file!, [...pre, "--check", "--config", path.join(debRoot, "etc/switchyard/sidecar.json")]);
    expect(c.code, c.err).toBe(0);
    expect(c.out).toContain("redis: tcp 0.0.0.0:6379 → redis");
  });

  it("without its prebuilt engine, falls back to the JavaScript data path", () => {
    const bare = path.join(tmp, "bare");
    mkdirSync(bare);
    cpSync(path.join(debRoot, "usr/bin/switchyard-l4"), path.join(bare, "switchyard-l4"));
    expect(exec(path.join(bare, "switchyard-l4"), ["--version"]).out).toMatch(/data path: raw\)$/m);
  });

  it("carries redis-server traffic on the native data path", async () => {
    const redisPort = await freePort();
    const redis = spawn(
      "redis-server",
      ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      {
        stdio: "ignore",
      },
    );
    onCleanup(() => redis.kill("SIGKILL"));
    const cli = (port: number, ...args: string[]) =>
      spawnSync("redis-cli", ["-p", String(port), ...args], { encoding: "utf8" }).stdout.trim();
    await waitFor(() => cli(redisPort, "PING") === "PONG", 10_000, "redis-server");

    const [listen, admin] = [await freePort(), await freePort()];
    const config = path.join(tmp, "sidecar.json");
    writeFileSync(
      config,
      JSON.stringify({
        services: [{ name: "redis", backends: [{ address: `127.0.0.1:${redisPort}` }] }],
        listeners: [{ name: "redis", listen: `127.0.0.1:${listen}`, service: "redis" }],
      }),
    );
    const sidecar = spawnSidecar(["--config", config, "--admin", `127.0.0.1:${admin}`], {
      program: [path.join(debRoot, "usr/bin/switchyard-l4")],
      cwd: tmp,
      env,
    });
    await sidecar.waitForLog("listening");
    expect(cli(listen, "SET", "release", "works")).toBe("OK");
    for (let i = 0; i < 50; i++) expect(cli(listen, "INCR", "hits")).toBe(String(i + 1));
    expect(cli(listen, "GET", "release")).toBe("works");
    expect(cli(redisPort, "GET", "hits")).toBe("50"); // it was the real backend that counted

    const status = (await (await fetch(`http://127.0.0.1:${admin}/status`)).json()) as {
      listeners: { name: string; data_path?: string }[];
    };
    expect(status.listeners.find((l) => l.name === "redis")?.data_path).toBe("native");
    sidecar.child.kill("SIGTERM");
    expect(await sidecar.exited).toBe(0);
  });

  it("installs a systemd unit that systemd-analyze verifies, with a low exposure rating", () => {
    // The .deb's files in a root of their own, beside the system's units (the targets the unit names) and kill.
    const root = path.join(tmp, "verify-root");
    execFileSync("dpkg-deb", ["-x", deb, root]);
    cpSync("/lib/systemd/system", path.join(root, "lib/systemd/system"), {
      recursive: true,
      force: false,
      dereference: false,
    });
    mkdirSync(path.join(root, "bin"), { recursive: true });
    cpSync("/bin/kill", path.join(root, "bin/kill"));
    const unit = "/lib/systemd/system/switchyard-l4.service";
    const verify = spawnSync("systemd-analyze", ["verify", `--root=${root}`, unit], { encoding: "utf8" });
    expect(verify.stderr).toBe("");
    expect(verify.status).toBe(0);

    const security = spawnSync("systemd-analyze", ["security", "--offline=yes", `--root=${root}`, unit], {
      encoding: "utf8",
    });
    const level = /Overall exposure level for switchyard-l4\.service: ([\d.]+) (\w+)/.exec(security.stdout);
    expect(level, security.stdout + security.stderr).not.toBeNull();
    expect(Number(level![1])).toBeLessThanOrEqual(2.0);
    expect(level![2]).toBe("OK");
  });
});
