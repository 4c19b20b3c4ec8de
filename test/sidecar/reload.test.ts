// Reloads: listeners added, changed and removed without touching the others; open connections drain on the old
// config while new ones use the new; an invalid config is rejected, counted, and the old one keeps serving;
// triggers (SIGHUP, file change, a polled URL with ETag) in the real program; and no connection is dropped
// when reloading under a steady load.
import { once } from "node:events";
import { mkdirSync, mkdtempSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkConfig, parseConfig } from "../../core/config/index.ts";
import { ReloadStats } from "../../l4-sidecar/src/metrics.ts";
import { Reloader, watchFile } from "../../l4-sidecar/src/reload.ts";
import { fileSource } from "../../l4-sidecar/src/source.ts";
import {
  backend,
  connect,
  freePort,
  onCleanup,
  readAll,
  roundTrip,
  sleep,
  spawnSidecar,
  startSidecar,
  waitFor,
} from "./helpers.ts";

const dir = mkdtempSync(path.join(tmpdir(), "sy-reload-"));
const named = (name: string) =>
  backend((s) => {
    s.on("data", () => {});
    s.on("end", () => s.end(name));
  });

function doc(
  listeners: { name: string; port: number; service: string }[],
  services: Record<string, string[]>,
) {
  return {
    services: Object.entries(services).map(([name, addrs]) => ({
      name,
      backends: addrs.map((address) => ({ address })),
    })),
    listeners: listeners.map((l) => ({ name: l.name, listen: `127.0.0.1:${l.port}`, service: l.service })),
  };
}

/**
 * A config that made the checker throw (RangeError: too deep for its recursion) instead of reporting a problem:
 * a rules expression nested 5,000 parentheses deep. Once the parser caps its depth it is merely invalid; the
 * tests below hold either way, and `throwingCheck` keeps the throw itself covered.
 */
function crashing(base: ReturnType<typeof doc>) {
  const expression = `${"(".repeat(5000)}ip.src eq 1.2.3.4${")".repeat(5000)}`;
  return { ...base, waf: { rules: [{ expression, action: "block" }] } };
}
const throwingCheck = (raw: unknown) => {
  if ((raw as { waf?: unknown }).waf) throw new RangeError("Maximum call stack size exceeded");
  return checkConfig(raw);
};

/** Writes a file atomically, as editors and config managers do. */
function writeAtomic(file: string, text: string) {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

describe("reload (in process)", () => {
  it("adds, updates and removes listeners; unchanged ones keep their socket and open connections", async () => {
    const [a, b] = [await named("A"), await named("B")];
    const [p1, p2, p3] = [await freePort(), await freePort(), await freePort()];
    const first = doc(
      [
        { name: "one", port: p1, service: "sa" },
        { name: "two", port: p2, service: "sa" },
      ],
      { sa: [a.address], sb: [b.address] },
    );
    const { sidecar } = await startSidecar(first);
    const one = sidecar.listeners.get("one");
    const open = await connect(p1); // an open connection on the old config
    const openReply = readAll(open);
    open.write("x");
    await waitFor(() => a.sockets.size === 1);

    const second = doc(
      [
        { name: "one", port: p1, service: "sb" }, // same address, new service
        { name: "three", port: p3, service: "sb" }, // new
      ], // "two" removed
      { sa: [a.address], sb: [b.address] },
    );
    expect(await sidecar.apply(parseConfig(second))).toEqual([]);
    expect(sidecar.listeners.get("one")).toBe(one); // same socket, not rebound
    expect(await roundTrip(p1, "")).toBe("B"); // new connections: new config at once
    expect(await roundTrip(p3, "")).toBe("B");
    await expect(connect(p2)).rejects.toThrow(/ECONNREFUSED/);
    open.end();
    expect((await openReply).toString()).toBe("A"); // the old connection drained on its own config
  });

  it("an invalid config is rejected, logged with its problems, counted; the old one keeps serving", async () => {
    const a = await named("A");
    const port = await freePort();
    const file = path.join(dir, "invalid.json");
    writeFileSync(file, JSON.stringify(doc([{ name: "l", port, service: "sa" }], { sa: [a.address] })));
    const { sidecar, log, lines } = await startSidecar(
      JSON.parse(JSON.stringify(doc([{ name: "l", port, service: "sa" }], { sa: [a.address] }))),
    );
    const stats = new ReloadStats();
    const reloader = new Reloader(fileSource(file), (c, v) => sidecar.apply(c, v), stats, log);
    expect(await reloader.reload("test")).toBe("ok");
    writeFileSync(
      file,
      JSON.stringify({
        services: [{ name: "sa", backends: [] }],
        listeners: [{ name: "l", listen: `127.0.0.1:${port}`, service: "nope" }],
      }),
    );
    expect(await reloader.reload("test")).toBe("invalid");
    writeFileSync(file, "{ not json");
    expect(await reloader.reload("test")).toBe("failed");
    expect(stats).toMatchObject({ ok: 1, invalid: 1, failed: 1 });
    const rejected = lines.find((l) => l.msg === "config rejected; keeping the running config")!;
    expect([...(rejected.problems as string[])].sort()).toEqual([
      'listeners[0].service: no service named "nope" (services: sa)',
      "services[0].backends: a service needs at least one backend",
    ]);
    expect(await roundTrip(port, "")).toBe("A");
  });

  it("a config that makes the checker throw is a failed reload, logged and counted; the next good one applies", async () => {
    const [a, b] = [await named("A"), await named("B")];
    const port = await freePort();
    const file = path.join(dir, "crash.json");
    const good = (addr: string) => doc([{ name: "l", port, service: "sa" }], { sa: [addr] });
    const { sidecar, log, lines } = await startSidecar(good(a.address));
    for (const check of [checkConfig, throwingCheck]) {
      const stats = new ReloadStats();
      const reloader = new Reloader(fileSource(file), (c, v) => sidecar.apply(c, v), stats, log, check);
      writeFileSync(file, JSON.stringify(crashing(good(b.address))));
      // Before, the throw escaped as a rejection (unhandled where the triggers call reload) and `running` kept it,
      // so every later reload returned the same rejected promise.
      const outcome = await reloader.reload("test");
      expect(["failed", "invalid"]).toContain(outcome);
      if (check === throwingCheck) {
        expect(outcome).toBe("failed");
        expect(lines.at(-1)).toMatchObject({
          msg: "config reload failed; keeping the running config",
          err: "RangeError: Maximum call stack size exceeded",
        });
      }
      expect(await roundTrip(port, "")).toBe("A");
      writeFileSync(file, JSON.stringify(good(b.address)));
      expect(await reloader.reload("test")).toBe("ok");
      expect(await roundTrip(port, "")).toBe("B");
      expect(stats.ok).toBe(1);
      expect(stats.failed + stats.invalid).toBe(1);
      await sidecar.apply(parseConfig(good(a.address)));
    }
  });

  it("drops no connection when reloading under a steady load", async () => {
    const [a, b] = [await named("A"), await named("B")];
    const port = await freePort();
    const { sidecar } = await startSidecar(doc([{ name: "l", port, service: "s" }], { s: [a.address] }));
    let ok = 0;
    let failed = 0;
    let stop = false;
    const client = async () => {
      while (!stop) {
        try {
          const r = await roundTrip(port, "q");
          if (r === "A" || r === "B") ok++;
          else failed++;
        } catch {
          failed++;
        }
      }
    };
    const clients = Array.from({ length: 8 }, client);
    for (let i = 0; i < 20; i++) {
      await sleep(25);
      const backends = i % 2 === 0 ? [b.address] : [a.address, b.address];
      // Alternate listener settings too, so the socket's settings really change under load.
      const d = doc([{ name: "l", port, service: "s" }], { s: backends });
      (d.listeners[0] as Record<string, unknown>).idle_timeout = i % 2 ? "30s" : "1m";
      expect(await sidecar.apply(parseConfig(d))).toEqual([]);
    }
    stop = true;
    await Promise.all(clients);
    expect(failed).toBe(0);
    expect(ok).toBeGreaterThan(100);
  });
});

describe("watchFile", () => {
  it("fires for the file (also when replaced by rename) and a Kubernetes ..data swap, not for its neighbours", async () => {
    const d = mkdtempSync(path.join(tmpdir(), "sy-watch-"));
    const file = path.join(d, "sidecar.json");
    writeFileSync(file, "{}");
    let fired = 0;
    const stop = watchFile(file, () => fired++, 20);
    onCleanup(stop);
    for (let i = 0; i < 5; i++) writeFileSync(path.join(d, `app-${i}.log`), "noise");
    await sleep(150);
    expect(fired).toBe(0);
    writeAtomic(file, '{"services":[]}');
    await waitFor(() => fired === 1, 2000, "rename-over event");
    mkdirSync(path.join(d, "..2026_11_26"));
    symlinkSync("..2026_11_26", path.join(d, "..data_tmp"));
    renameSync(path.join(d, "..data_tmp"), path.join(d, "..data"));
    await waitFor(() => fired === 2, 2000, "..data swap event");
  });
});

describe("reload triggers (the real program)", () => {
  it("reloads on file change; rejects an invalid edit and keeps serving", async () => {
    const [a, b] = [await named("A"), await named("B")];
    const port = await freePort();
    const file = path.join(dir, "live.json");
    writeAtomic(file, JSON.stringify(doc([{ name: "l", port, service: "s" }], { s: [a.address] })));
    const p = spawnSidecar(["--config", file]);
    await p.waitForLog("started");
    expect(await roundTrip(port, "")).toBe("A");

    writeAtomic(file, JSON.stringify(doc([{ name: "l", port, service: "s" }], { s: [b.address] })));
    await waitFor(
      () => p.lines.some((l) => l.msg === "config loaded" && l.reason === "file change"),
      5000,
      "file reload",
    );
    expect(await roundTrip(port, "")).toBe("B");

    writeAtomic(
      file,
      JSON.stringify({ listeners: [{ name: "l", listen: `127.0.0.1:${port}`, service: "gone" }] }),
    );
    await waitFor(
      () => p.lines.some((l) => l.msg === "config rejected; keeping the running config"),
      5000,
      "rejection",
    );
    expect(await roundTrip(port, "")).toBe("B");

    p.child.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  });

  it("survives a config that crashed the checker, from the watched file and on SIGHUP: still serving, then a good one applies", async () => {
    const [a, b] = [await named("A"), await named("B")];
    const port = await freePort();
    const file = path.join(dir, "crash-live.json");
    const good = (addr: string) => doc([{ name: "l", port, service: "s" }], { s: [addr] });
    writeAtomic(file, JSON.stringify(good(a.address)));
    const p = spawnSidecar(["--config", file]);
    await p.waitForLog("started");
    const refusals = () =>
      p.lines.filter(
        (l) =>
          l.msg === "config reload failed; keeping the running config" ||
          l.msg === "config rejected; keeping the running config",
      ).length;
    writeAtomic(file, JSON.stringify(crashing(good(b.address))));
    await waitFor(() => refusals() === 1, 10_000, "the crashing config refused");
    p.child.kill("SIGHUP");
    await waitFor(() => refusals() === 2, 10_000, "refused again on SIGHUP");
    expect(p.child.exitCode).toBe(null);
    expect(await roundTrip(port, "")).toBe("A");
    writeAtomic(file, JSON.stringify(good(b.address)));
    await waitFor(() => p.lines.some((l) => l.msg === "config loaded"), 10_000, "the good config");
    expect(await roundTrip(port, "")).toBe("B");
    p.child.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  });

  it("reloads on SIGHUP (the file is a symlink into a directory the watcher does not see)", async () => {
    const [a, c] = [await named("A"), await named("C")];
    const port = await freePort();
    const real = path.join(mkdtempSync(path.join(tmpdir(), "sy-real-")), "real.json");
    writeFileSync(real, JSON.stringify(doc([{ name: "l", port, service: "s" }], { s: [a.address] })));
    const link = path.join(mkdtempSync(path.join(tmpdir(), "sy-link-")), "sidecar.json");
    symlinkSync(real, link);
    const p = spawnSidecar(["--config", link]);
    await p.waitForLog("started");
    expect(await roundTrip(port, "")).toBe("A");
    writeFileSync(real, JSON.stringify(doc([{ name: "l", port, service: "s" }], { s: [c.address] })));
    await sleep(300);
    expect(await roundTrip(port, "")).toBe("A"); // not noticed without the signal
    p.child.kill("SIGHUP");
    await waitFor(
      () => p.lines.some((l) => l.msg === "config loaded" && l.reason === "SIGHUP"),
      5000,
      "SIGHUP reload",
    );
    expect(await roundTrip(port, "")).toBe("C");
    p.child.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  });

  it("polls --config-url with If-None-Match and a bearer token, and applies a changed document", async () => {
    const [a, b] = [await named("A"), await named("B")];
    const port = await freePort();
    let body = JSON.stringify(doc([{ name: "l", port, service: "s" }], { s: [a.address] }));
    let etag = '"v1"';
    let requests = 0;
    let notModified = 0;
    const server = http.createServer((req, res) => {
      requests++;
      if (req.headers.authorization !== "Bearer s3cret") return void res.writeHead(401).end();
      if (req.headers["if-none-match"] === etag) {
        notModified++;
        return void res.writeHead(304).end();
      }
      res.writeHead(200, { "content-type": "application/json", etag }).end(body);
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    onCleanup(() => new Promise((r) => server.close(r)));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/admin/config`;
    const tokenFile = path.join(dir, "token");
    writeFileSync(tokenFile, "s3cret\n");
    const p = spawnSidecar([
      "--config-url",
      url,
      "--poll-interval",
      "100ms",
      "--config-token-file",
      tokenFile,
    ]);
    await p.waitForLog("started");
    expect(await roundTrip(port, "")).toBe("A");
    await waitFor(() => notModified >= 2, 5000, "conditional polls");
    body = JSON.stringify(doc([{ name: "l", port, service: "s" }], { s: [b.address] }));
    etag = '"v2"';
    await waitFor(
      () => p.lines.some((l) => l.msg === "config loaded" && l.reason === "poll"),
      5000,
      "poll reload",
    );
    expect(await roundTrip(port, "")).toBe("B");
    expect(requests).toBeGreaterThan(notModified);
    p.child.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  });
});
