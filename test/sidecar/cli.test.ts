// switchyard-l4 as users run it: a spawned process reading a wrangler.toml or JSON file, --check, and SIGTERM.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { autoWorkers, parseCliArgs } from "../../l4-sidecar/src/args.ts";
import {
  connect,
  echoBackend,
  freePort,
  ROOT,
  readAll,
  roundTrip,
  sleep,
  spawnSidecar,
  waitFor,
} from "./helpers.ts";

const dir = mkdtempSync(path.join(tmpdir(), "sy-cli-"));
function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe("switchyard-l4 CLI", () => {
  it("runs from a wrangler.toml's [vars.SWITCHYARD] and drains on SIGTERM: no new connections, open ones finish", async () => {
    const b = await echoBackend();
    const port = await freePort();
    const toml = file(
      "wrangler.toml",
      `name = "edge"\nmain = "worker/src/index.ts"\n\n[[vars.SWITCHYARD.services]]\nname = "echo"\nbackends = [{ address = "${b.address}" }]\n\n[[vars.SWITCHYARD.listeners]]\nname = "echo"\nlisten = "127.0.0.1:${port}"\nservice = "echo"\n`,
    );
    const p = spawnSidecar(["--config", toml]);
    await p.waitForLog("started");
    expect(await roundTrip(port, "hello")).toBe("hello");

    const open = await connect(port);
    const reply = readAll(open);
    open.write("still ");
    await waitFor(() => b.sockets.size === 1);
    p.child.kill("SIGTERM");
    await p.waitForLog("shutting down: no longer accepting, draining connections");
    await expect(connect(port)).rejects.toThrow(/ECONNREFUSED/);
    await sleep(100);
    expect(p.child.exitCode).toBe(null); // still draining the open connection
    open.end("here");
    expect((await reply).toString()).toBe("still here");
    expect(await p.exited).toBe(0);
    expect(p.lines.filter((l) => l.msg === "connection").length).toBe(2);
  });

  it("resets what is left when the drain deadline passes, then exits 0", async () => {
    const b = await echoBackend();
    const port = await freePort();
    const json = file(
      "deadline.json",
      JSON.stringify({
        services: [{ name: "echo", backends: [{ address: b.address }] }],
        listeners: [{ name: "echo", listen: `127.0.0.1:${port}`, service: "echo" }],
      }),
    );
    const p = spawnSidecar(["--config", json, "--drain-timeout", "300ms"]);
    await p.waitForLog("started");
    const open = await connect(port);
    const closed = readAll(open);
    open.write("x");
    await waitFor(() => b.sockets.size === 1);
    const t0 = Date.now();
    p.child.kill("SIGTERM");
    await closed;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(await p.exited).toBe(0);
    expect(p.lines.find((l) => l.msg === "connection")?.closed_by).toBe("shutdown");
  });

  it("--check prints every problem with its path and exits 1; a good config prints a summary and exits 0", async () => {
    const bad = file(
      "bad.json",
      JSON.stringify({
        services: [{ name: "db", backends: [{ address: "nohost" }] }],
        listeners: [{ name: "db", listen: "127.0.0.1:5432", service: "dbb", protocl: "tcp" }],
      }),
    );
    const p = spawnSidecar(["--config", bad, "--check"]);
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toContain("services[0].backends[0].address");
    expect(p.stderr()).toContain("listeners[0].protocl");
    expect(p.stderr()).toContain('listeners[0].service: no service named "dbb"');

    const good = file(
      "good.json",
      JSON.stringify({
        services: [{ name: "db", backends: [{ address: "127.0.0.1:5433" }] }],
        listeners: [{ name: "db", listen: "127.0.0.1:5432", service: "db" }],
      }),
    );
    const ok = spawnSidecar(["--config", good, "--check"]);
    expect(await ok.exited).toBe(0);
  });

  it("--check on a config that crashed the checker (5,000 nested parentheses) exits 1 with a message, not a trace", async () => {
    const expression = `${"(".repeat(5000)}ip.src eq 1.2.3.4${")".repeat(5000)}`;
    const f = file(
      "crashing.json",
      JSON.stringify({
        services: [{ name: "db", backends: [{ address: "127.0.0.1:5433" }] }],
        listeners: [{ name: "db", listen: "127.0.0.1:5432", service: "db" }],
        waf: { rules: [{ expression, action: "block" }] },
      }),
    );
    const p = spawnSidecar(["--config", f, "--check"]);
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toContain(f);
    expect(p.stderr()).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("--check warns, with the path, about fields a TCP service sets that cannot apply to it; the config still passes", async () => {
    const f = file(
      "tcp-http-fields.json",
      JSON.stringify({
        services: [
          {
            name: "db",
            backends: [{ address: "127.0.0.1:5433" }],
            retry: { attempts: 2 },
            sticky: {},
            passive: { failures: 2, consecutive_5xx: 3 },
            hash: { header: "x-user" },
            balance: "ring-hash",
          },
        ],
        listeners: [{ name: "db", listen: "127.0.0.1:5432", service: "db" }],
      }),
    );
    const p = spawnSidecar(["--config", f, "--check"]);
    expect(await p.exited).toBe(0);
    const warnings = p
      .stderr()
      .split("\n")
      .filter((l) => l.startsWith("warning: "))
      .map((l) => l.slice(9, l.indexOf(":", 9)));
    expect(warnings).toEqual([
      "services[0].retry",
      "services[0].sticky",
      "services[0].hash",
      "services[0].passive.consecutive_5xx",
    ]);
    expect(p.stderr()).toContain(
      "services[0].passive.consecutive_5xx: ignored for a TCP service: a TCP connection has no HTTP status",
    );
  });

  it("--workers auto (the default) runs a process per core but one, and one process on one or two cores", () => {
    expect(parseCliArgs(["--config", "x.json"]).workers).toBe(autoWorkers());
    expect(parseCliArgs(["--config", "x.json", "--workers", "auto"]).workers).toBe(autoWorkers());
    expect([1, 2, 3, 4, 16].map((cores) => autoWorkers(cores))).toEqual([1, 1, 2, 3, 15]);
    expect(autoWorkers()).toBe(Math.max(1, availableParallelism() - 1));
    expect(parseCliArgs(["--config", "x.json", "--workers", "1"]).workers).toBe(1);
  });

  it("the shipped systemd unit starts the program with flags it accepts", () => {
    const unit = readFileSync(path.join(ROOT, "l4-sidecar/deploy/switchyard-l4.service"), "utf8");
    const execStarts = unit.split("\n").filter((l) => /^#? ?ExecStart=/.test(l));
    expect(execStarts.length).toBe(2); // the file one, and the --config-url one (commented)
    for (const line of execStarts) {
      const args = line.replace(/^#? ?ExecStart=/, "").split(/\s+/);
      expect(args[0]).toBe("/usr/bin/switchyard-l4"); // where the .deb installs the release's executable
      const opts = parseCliArgs(args.slice(1));
      expect(opts.admin).toEqual({ host: "127.0.0.1", port: 9901 });
      expect(opts.config ?? opts.configUrl).toBeTruthy();
    }
    expect(unit).toMatch(/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
  });
});
