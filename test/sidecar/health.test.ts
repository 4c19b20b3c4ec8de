// Active health checks (TCP connect, send/expect, HTTP GET) with rise/fall thresholds, and passive ejection,
// observed through real connections: traffic leaves a backend only once its state has flipped.

import { once } from "node:events";
import http from "node:http";
import type net from "node:net";
import { describe, expect, it } from "vitest";
import { healthCheckSchema } from "../../core/config/schema/health.ts";
import { probe } from "../../l4-sidecar/src/probe.ts";
import {
  backend,
  deadAddress,
  echoBackend,
  onCleanup,
  roundTrip,
  sleep,
  startSidecar,
  tcpConfig,
  useDataPath,
  waitFor,
} from "./helpers.ts";

const check = (raw: Record<string, unknown>) => healthCheckSchema.parse(raw);

/** A tiny Redis stand-in: answers PING with +PONG while `up`, else with an error. */
async function fakeRedis() {
  const state = { up: true };
  const b = await backend((s) => {
    s.on("data", (d) => {
      if (d.toString().startsWith("PING")) s.write(state.up ? "+PONG\r\n" : "-LOADING\r\n");
    });
    s.on("end", () => s.end());
  });
  return { ...b, state };
}

async function httpBackend(status: () => number) {
  const server = http.createServer((req, res) => {
    res.writeHead(req.url === "/health" ? status() : 404).end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  onCleanup(() => new Promise((r) => server.close(r)));
  return (server.address() as { port: number }).port;
}

describe("health probes", () => {
  it("tcp: up when the connect succeeds, down when refused", async () => {
    const b = await echoBackend();
    expect(await probe("127.0.0.1", b.port, check({}))).toBe(true);
    const dead = Number((await deadAddress()).split(":")[1]);
    expect(await probe("127.0.0.1", dead, check({}))).toBe(false);
  });

  it("send/expect: up only when the reply contains the expected text", async () => {
    const r = await fakeRedis();
    const ping = check({ send: "PING\r\n", expect: "+PONG", timeout: "300ms" });
    expect(await probe("127.0.0.1", r.port, ping)).toBe(true);
    r.state.up = false;
    expect(await probe("127.0.0.1", r.port, ping)).toBe(false);
  });

  it("send/expect: a silent backend fails within the timeout", async () => {
    const silent = await backend(() => {});
    const t0 = Date.now();
    expect(
      await probe("127.0.0.1", silent.port, check({ send: "PING\r\n", expect: "+PONG", timeout: "200ms" })),
    ).toBe(false);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it("http: GET path, up on 2xx/3xx by default or on the listed statuses", async () => {
    let status = 200;
    const port = await httpBackend(() => status);
    expect(await probe("127.0.0.1", port, check({ path: "/health" }))).toBe(true);
    status = 503;
    expect(await probe("127.0.0.1", port, check({ path: "/health" }))).toBe(false);
    expect(await probe("127.0.0.1", port, check({ path: "/health", status: [503] }))).toBe(true);
    expect(await probe("127.0.0.1", port, check({ path: "/other" }))).toBe(false);
  });
});

describe.each(["native", "raw", "socket"])("health in the balancer (%s data path)", (mode) => {
  useDataPath(mode);

  it("a backend goes down only after `unhealthy` failed checks, and back up after `healthy` passes", async () => {
    const a = await fakeRedis();
    const b = await fakeRedis();
    const { port, sidecar, lines, connections } = await startSidecar(
      tcpConfig(
        [a.address, b.address],
        {},
        {
          health: {
            send: "PING\r\n",
            expect: "+PONG",
            interval: "100ms",
            jitter: "0s",
            timeout: "100ms",
            unhealthy: 3,
            healthy: 2,
          },
        },
      ),
    );
    const state = () => sidecar.pools.get("svc")!.backends[0]!.state;
    await waitFor(() => state().checks >= 1);
    a.state.up = false;
    const checksAtFailure = state().checks;
    await waitFor(() => !state().healthy, 3000, "backend a marked down");
    // Flipped exactly at the threshold: three failing checks, not one.
    expect(state().checks - checksAtFailure).toBeGreaterThanOrEqual(3);
    expect(state().checks - checksAtFailure).toBeLessThanOrEqual(4);
    const logged = connections().length;
    for (let i = 0; i < 6; i++) expect(await roundTrip(port, "PING\r\n")).toBe("+PONG\r\n");
    // Health probes still reach a, but no client connection does.
    await waitFor(() => connections().length === logged + 6);
    expect(
      connections()
        .slice(logged)
        .map((l) => l.backend),
    ).toEqual(new Array(6).fill(b.address));
    expect(lines.some((l) => l.msg === "backend health changed" && l.healthy === false)).toBe(true);

    a.state.up = true;
    const checksAtRecovery = state().checks;
    await waitFor(() => state().healthy, 3000, "backend a back up");
    expect(state().checks - checksAtRecovery).toBeGreaterThanOrEqual(2);
  });

  it("HTTP checks send the configured method and need the body text, as the worker's checks do", async () => {
    const methods = new Set<string>();
    let body = "degraded";
    const server = http.createServer((req, res) => {
      methods.add(req.method ?? "");
      res.end(body);
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    onCleanup(() => new Promise((r) => server.close(r)));
    const address = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const { sidecar } = await startSidecar(
      tcpConfig(
        [address],
        {},
        {
          health: {
            path: "/h",
            method: "OPTIONS",
            body: "ok",
            interval: "30ms",
            jitter: "0s",
            unhealthy: 1,
            healthy: 1,
          },
        },
      ),
    );
    const state = () => sidecar.pools.get("svc")!.backends[0]!.state;
    // A 200 without the text is down…
    await waitFor(() => !state().healthy, 3000, "down on a body without the text");
    body = "all ok";
    await waitFor(() => state().healthy, 3000, "up once the body has it");
    expect([...methods]).toEqual(["OPTIONS"]);
  });

  it("passive: consecutive connect failures eject a backend for the configured time", async () => {
    const dead = await deadAddress();
    const live = await echoBackend();
    const { port, sidecar, connections } = await startSidecar(
      tcpConfig([dead, live.address], {}, { passive: { failures: 2, eject: "400ms" } }),
    );
    for (let i = 0; i < 8; i++) expect(await roundTrip(port, `m${i}`)).toBe(`m${i}`);
    const state = sidecar.pools.get("svc")!.backends[0]!.state;
    // Round-robin sends every other connection to the dead one until two failures eject it; then none.
    expect(state.connectErrors.refused).toBe(2);
    expect(state.available(Date.now())).toBe(false);
    await sleep(450);
    expect(state.available(Date.now())).toBe(true);
    await roundTrip(port, "x");
    await roundTrip(port, "y");
    expect(state.connectErrors.refused).toBe(3);
    await waitFor(() => connections().length === 10);
  });
});
