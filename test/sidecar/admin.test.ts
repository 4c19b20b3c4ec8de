// The admin endpoint of the real program: Prometheus /metrics, /status JSON, /healthz, /readyz (503 while
// draining), and --workers N sharing the listeners with SO_REUSEPORT, their metrics summed by the primary.
import { mkdtempSync, renameSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  backend,
  connect,
  deadAddress,
  echoBackend,
  freePort,
  readAll,
  roundTrip,
  spawnSidecar,
  waitFor,
} from "./helpers.ts";

const dir = mkdtempSync(path.join(tmpdir(), "sy-admin-"));

async function get(port: number, p: string) {
  const res = await fetch(`http://127.0.0.1:${port}${p}`);
  return { status: res.status, text: await res.text(), type: res.headers.get("content-type") ?? "" };
}

/** The value of one series in Prometheus text, e.g. metric('x_total{listener="l"}'). */
function metric(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function setup(extra: string[] = []) {
  const live = await echoBackend();
  const dead = await deadAddress();
  const port = await freePort();
  const adminPort = await freePort();
  const file = path.join(dir, `c${port}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      services: [{ name: "echo", backends: [{ address: live.address }, { address: dead }] }],
      listeners: [{ name: "echo", listen: `127.0.0.1:${port}`, service: "echo", max_connections: 3 }],
    }),
  );
  const p = spawnSidecar(["--config", file, "--admin", `127.0.0.1:${adminPort}`, ...extra]);
  await p.waitForLog("started");
  return { p, port, adminPort, live, dead };
}

describe("admin endpoint", () => {
  it("serves /metrics, /status, /healthz and /readyz, and /readyz turns 503 while draining", async () => {
    const { p, port, adminPort, live, dead } = await setup();
    for (let i = 0; i < 4; i++) expect(await roundTrip(port, "abc")).toBe("abc");

    // The last connection's close may still be in flight in the sidecar: wait until nothing is open.
    let m = await get(adminPort, "/metrics");
    for (
      let i = 0;
      i < 50 && metric(m.text, 'switchyard_l4_connections_active{listener="echo"}') !== 0;
      i++
    ) {
      await new Promise((r) => setTimeout(r, 20));
      m = await get(adminPort, "/metrics");
    }
    expect(m.status).toBe(200);
    expect(m.type).toContain("text/plain");
    expect(metric(m.text, 'switchyard_l4_connections_total{listener="echo"}')).toBe(4);
    expect(metric(m.text, 'switchyard_l4_listener_bytes_total{listener="echo",direction="in"}')).toBe(12);
    expect(metric(m.text, 'switchyard_l4_listener_bytes_total{listener="echo",direction="out"}')).toBe(12);
    expect(
      metric(
        m.text,
        `switchyard_l4_backend_connect_errors_total{service="echo",backend="${dead}",kind="refused"}`,
      ),
    ).toBe(2);
    expect(
      metric(m.text, `switchyard_l4_backend_connections_total{service="echo",backend="${live.address}"}`),
    ).toBe(4);
    expect(metric(m.text, `switchyard_l4_backend_up{service="echo",backend="${live.address}"}`)).toBe(1);
    expect(metric(m.text, 'switchyard_l4_connections_active{listener="echo"}')).toBe(0);
    expect(m.text).toMatch(/switchyard_l4_config_info\{version="[0-9a-f]{12}"\} 1/);

    const status = JSON.parse((await get(adminPort, "/status")).text);
    expect(status.version).toMatch(/^[0-9a-f]{12}$/);
    expect(status.listeners[0]).toMatchObject({ name: "echo", port, service: "echo", total: 4, active: 0 });
    expect(
      status.services[0].backends.map((b: { address: string; healthy: boolean }) => [b.address, b.healthy]),
    ).toEqual([
      [live.address, true],
      [dead, true],
    ]);
    expect((await get(adminPort, "/healthz")).status).toBe(200);
    expect((await get(adminPort, "/readyz")).status).toBe(200);

    // Refusals are counted by reason.
    const held = [await connect(port), await connect(port), await connect(port)];
    for (const h of held) h.write("x");
    await waitFor(() => live.sockets.size === 3);
    // Refused with a reset, which may arrive before the connect event: just wait for the socket to close.
    const extra = net.connect(port, "127.0.0.1");
    extra.on("error", () => {});
    await new Promise((resolve) => extra.on("close", resolve));
    const m2 = await get(adminPort, "/metrics");
    expect(
      metric(m2.text, 'switchyard_l4_connections_refused_total{listener="echo",reason="max_connections"}'),
    ).toBe(1);
    expect(metric(m2.text, 'switchyard_l4_connections_active{listener="echo"}')).toBe(3);

    p.child.kill("SIGTERM");
    await p.waitForLog("shutting down: no longer accepting, draining connections");
    expect((await get(adminPort, "/readyz")).status).toBe(503);
    for (const h of held) h.end();
    expect(await p.exited).toBe(0);
  });

  it("--workers 2: both processes accept on the shared listener; metrics are summed; SIGTERM drains all", async () => {
    const { p, port, adminPort } = await setup(["--workers", "2"]);
    await waitFor(
      () => p.lines.filter((l) => l.msg === "listening").length === 2,
      10_000,
      "two workers listening",
    );
    const pids = new Set(p.lines.filter((l) => l.msg === "listening").map((l) => l.pid));
    expect(pids.size).toBe(2);
    for (let i = 0; i < 40; i++) expect(await roundTrip(port, `w${i}`)).toBe(`w${i}`);
    await waitFor(() => p.lines.filter((l) => l.msg === "connection").length >= 40);
    const servedBy = new Set(p.lines.filter((l) => l.msg === "connection").map((l) => l.pid));
    expect(servedBy.size).toBe(2); // the kernel spread connections over both workers

    const m = await get(adminPort, "/metrics");
    expect(metric(m.text, 'switchyard_l4_connections_total{listener="echo"}')).toBe(40);
    const status = JSON.parse((await get(adminPort, "/status")).text);
    expect(status.workers).toHaveLength(2);
    expect((await get(adminPort, "/readyz")).status).toBe(200);

    const open = await connect(port);
    const reply = readAll(open);
    open.write("draining ");
    await waitFor(
      () => p.lines.filter((l) => l.msg === "connection").length >= 40 && open.writableLength === 0,
      2000,
    );
    p.child.kill("SIGTERM");
    await p.waitForLog("shutting down: no longer accepting, draining connections");
    open.end("ok");
    expect((await reply).toString()).toBe("draining ok");
    expect(await p.exited).toBe(0);
  });

  it("--workers 2: a config change reaches every worker; an invalid one is rejected by the primary", async () => {
    const a = await backend((s) => s.end("A"));
    const b = await backend((s) => s.end("B"));
    const port = await freePort();
    const file = path.join(dir, `w${port}.json`);
    const doc = (address: string) =>
      JSON.stringify({
        services: [{ name: "s", backends: [{ address }] }],
        listeners: [{ name: "l", listen: `127.0.0.1:${port}`, service: "s" }],
      });
    writeFileSync(file, doc(a.address));
    const p = spawnSidecar(["--config", file, "--workers", "2"]);
    await p.waitForLog("started");
    for (let i = 0; i < 10; i++) expect(await roundTrip(port, "")).toBe("A");
    writeFileSync(`${file}.tmp`, doc(b.address));
    renameSync(`${file}.tmp`, file);
    await p.waitForLog("config loaded");
    // Both workers moved: every connection, whichever worker the kernel hands it to, reaches B.
    for (let i = 0; i < 20; i++) expect(await roundTrip(port, "")).toBe("B");
    writeFileSync(`${file}.tmp`, '{"listeners": [{"name": "l"}]}');
    renameSync(`${file}.tmp`, file);
    await p.waitForLog("config rejected; keeping the running config");
    for (let i = 0; i < 10; i++) expect(await roundTrip(port, "")).toBe("B");
    p.child.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  });
});
