// Operator states over real sockets: a drained backend gets no new connections and keeps its open ones until
// they end; maint also stops its health checks; ready restores both. Through Sidecar.setOperator on every data
// path, and through the program's POST /actions (token, errors, a reload, --workers, /status and /metrics).
import { mkdtempSync, renameSync, writeFileSync } from "node:fs";
import type net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { SidecarStatus } from "../../l4-sidecar/src/admin-page.ts";
import {
  backend,
  connect,
  freePort,
  readAll,
  roundTrip,
  sleep,
  spawnSidecar,
  startSidecar,
  tcpConfig,
  useDataPath,
  waitFor,
} from "./helpers.ts";

const dir = mkdtempSync(path.join(tmpdir(), "sy-operator-"));
const TOKEN = "s3cret-operator-token";

/** An /actions answer: the changes made, or what was wrong. */
const answer = async (r: Response) => (await r.json()) as { error?: string; changes?: unknown };

/** A backend that greets every connection with its name, then echoes. */
const named = (name: string) =>
  backend((s) => {
    s.write(name);
    s.pipe(s);
  });

/** The name of the backend a new connection reaches (the connection stays open). */
async function reach(port: number): Promise<{ name: string; socket: net.Socket }> {
  const socket = await connect(port);
  const name = await new Promise<string>((resolve) =>
    socket.once("data", (d: Buffer) => resolve(d.toString())),
  );
  return { name, socket };
}

/** Whether `socket` still carries bytes both ways (the echo comes back). */
async function echoes(socket: net.Socket, text: string): Promise<boolean> {
  const reply = new Promise<string>((resolve) => socket.once("data", (d: Buffer) => resolve(d.toString())));
  socket.write(text);
  return (await reply) === text;
}

for (const mode of ["native", "raw", "socket"]) {
  describe(`operator states on the ${mode} data path`, () => {
    useDataPath(mode);

    it("drain: no new connections, open ones go on until they end; ready brings it back", async () => {
      const a = await named("A");
      const b = await named("B");
      const { sidecar, port } = await startSidecar(tcpConfig([a.address, b.address]));
      const first = await reach(port);
      const drained = first.name === "A" ? a : b;
      const other = first.name === "A" ? b : a;
      const changes = sidecar.setOperator({ service: "svc", backends: [drained.address], state: "drain" });
      expect(changes).toEqual([{ service: "svc", backend: drained.address, from: "ready", to: "drain" }]);

      const accepted = drained.accepted;
      for (let i = 0; i < 6; i++) {
        const c = await reach(port);
        expect(c.name).not.toBe(first.name);
        c.socket.destroy();
      }
      expect(drained.accepted).toBe(accepted);
      expect(other.accepted).toBeGreaterThanOrEqual(6);
      // The connection opened before the drain still carries bytes and ends normally.
      expect(await echoes(first.socket, "still here")).toBe(true);
      expect(drained.sockets.size).toBe(1);
      const rest = readAll(first.socket);
      first.socket.end();
      await rest;
      await waitFor(() => drained.sockets.size === 0);

      sidecar.setOperator({ service: "svc", backends: [drained.address], state: "ready" });
      const names = new Set<string>();
      for (let i = 0; i < 4; i++) {
        const c = await reach(port);
        names.add(c.name);
        c.socket.destroy();
      }
      expect(names).toEqual(new Set(["A", "B"]));
    });

    it("every backend drained or in maintenance: new clients are closed (no backend), open ones go on", async () => {
      const a = await named("A");
      const { sidecar, port } = await startSidecar(tcpConfig([a.address]));
      const open = await reach(port);
      sidecar.setOperator({ service: "svc", backends: [a.address], state: "maint" });
      expect(await roundTrip(port, "x")).toBe("");
      expect(a.accepted).toBe(1);
      expect(await echoes(open.socket, "on")).toBe(true);
    });
  });
}

describe("operator states and health checks", () => {
  it("maint stops the backend's health checks; ready starts them again; drain keeps them", async () => {
    const a = await backend((s) => s.end());
    const b = await named("B");
    const { sidecar, port } = await startSidecar(
      tcpConfig([a.address, b.address], {}, { health: { interval: "20ms", jitter: "0s", timeout: "1s" } }),
    );
    await waitFor(() => a.accepted >= 2, 5000, "probes of A");
    sidecar.setOperator({ service: "svc", backends: [a.address], state: "drain" });
    const whileDrained = a.accepted;
    await waitFor(() => a.accepted >= whileDrained + 2, 5000, "probes of a drained backend");

    sidecar.setOperator({ service: "svc", backends: [a.address], state: "maint" });
    await sleep(60); // a probe already under way when the state changed may still land
    const atMaint = a.accepted;
    await sleep(200); // ten intervals
    expect(a.accepted).toBe(atMaint);
    // Out of rotation as well: clients reach B only.
    for (let i = 0; i < 3; i++) {
      const c = await reach(port);
      expect(c.name).toBe("B");
      c.socket.destroy();
    }
    expect(a.accepted).toBe(atMaint);

    sidecar.setOperator({ service: "svc", backends: [a.address], state: "ready" });
    await waitFor(() => a.accepted > atMaint, 5000, "probes after ready");
  });
});

async function program(extra: string[] = []) {
  const a = await named("A");
  const b = await named("B");
  const port = await freePort();
  const adminPort = await freePort();
  const file = path.join(dir, `c${port}.json`);
  const doc = (idle: string) =>
    JSON.stringify({
      services: [{ name: "svc", backends: [{ address: a.address }, { address: b.address }] }],
      listeners: [{ name: "l", listen: `127.0.0.1:${port}`, service: "svc", idle_timeout: idle }],
    });
  writeFileSync(file, doc("1h"));
  const tokenFile = path.join(dir, `t${port}`);
  writeFileSync(tokenFile, `${TOKEN}\n`);
  const p = spawnSidecar([
    "--config",
    file,
    "--admin",
    `127.0.0.1:${adminPort}`,
    "--admin-token-file",
    tokenFile,
    ...extra,
  ]);
  await p.waitForLog("started");
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${adminPort}/actions`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body,
      redirect: "manual",
    });
  const auth = { authorization: `Bearer ${TOKEN}` };
  const status = async () =>
    (await (await fetch(`http://127.0.0.1:${adminPort}/status`)).json()) as SidecarStatus & {
      workers: SidecarStatus[];
    };
  const metrics = async () => (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const rewrite = (idle: string) => {
    writeFileSync(`${file}.tmp`, doc(idle));
    renameSync(`${file}.tmp`, file);
  };
  return { p, a, b, port, adminPort, post, auth, status, metrics, rewrite };
}

describe("POST /actions (the real program)", () => {
  it("drains with the bearer token, shows it in /status and /metrics, keeps it across a reload", async () => {
    const { p, a, b, port, post, auth, status, metrics, rewrite } = await program();
    const res = await post(`service=svc&backend=${a.address}&state=drain`, auth);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      changes: [{ service: "svc", backend: a.address, from: "ready", to: "drain" }],
    });
    for (let i = 0; i < 4; i++) expect((await reach(port)).name).toBe("B");
    expect(a.accepted).toBe(0);
    const st = await status();
    expect(st.services[0]?.backends.map((x) => x.operator)).toEqual(["drain", "ready"]);
    const m = await metrics();
    expect(m).toContain(
      `switchyard_l4_backend_operator_state{service="svc",backend="${a.address}",state="drain"} 1`,
    );
    expect(m).toContain(
      `switchyard_l4_backend_operator_state{service="svc",backend="${a.address}",state="ready"} 0`,
    );

    rewrite("30m");
    await waitFor(() => p.lines.some((l) => l.msg === "config loaded"), 10_000, "reload");
    for (let i = 0; i < 4; i++) expect((await reach(port)).name).toBe("B");
    expect(a.accepted).toBe(0);

    // A form from the page: the token in a field, answered with a redirect back to the page.
    const form = await post(`service=svc&backend=${a.address}&state=ready&token=${TOKEN}`, {
      accept: "text/html",
    });
    expect(form.status).toBe(303);
    expect(form.headers.get("location")).toBe("/");
    await waitFor(() => b.accepted >= 8);
    const names = new Set<string>();
    for (let i = 0; i < 4; i++) names.add((await reach(port)).name);
    expect(names).toEqual(new Set(["A", "B"]));
    expect(p.lines.some((l) => l.msg === "backend operator state changed" && l.to === "drain")).toBe(true);
  });

  it("refuses without the right token, and names what is wrong with the request", async () => {
    const { a, adminPort, post, auth } = await program();
    expect((await post(`service=svc&backend=${a.address}&state=drain`)).status).toBe(401);
    expect(
      (await post(`service=svc&backend=${a.address}&state=drain`, { authorization: "Bearer nope" })).status,
    ).toBe(401);
    const unknown = await post("service=svc&backend=10.9.9.9:1&state=drain", auth);
    expect(unknown.status).toBe(404);
    expect((await answer(unknown)).error).toContain('service "svc" has no backend "10.9.9.9:1"');
    expect((await post(`service=nope&backend=${a.address}&state=drain`, auth)).status).toBe(404);
    const bad = await post(`service=svc&backend=${a.address}&state=down`, auth);
    expect(bad.status).toBe(400);
    expect((await answer(bad)).error).toBe('state must be one of ready, drain, maint (got "down")');
    const json = await fetch(`http://127.0.0.1:${adminPort}/actions`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ service: "svc", backend: [a.address], state: "maint" }),
    });
    expect(await json.json()).toEqual({
      changes: [{ service: "svc", backend: a.address, from: "ready", to: "maint" }],
    });
  });

  it("without a token, actions are off (403) and the page says so", async () => {
    const a = await named("A");
    const port = await freePort();
    const adminPort = await freePort();
    const file = path.join(dir, `n${port}.json`);
    writeFileSync(file, JSON.stringify(tcpConfig([a.address], { listen: `127.0.0.1:${port}` })));
    const p = spawnSidecar(["--config", file, "--admin", `127.0.0.1:${adminPort}`]);
    await p.waitForLog("started");
    const res = await fetch(`http://127.0.0.1:${adminPort}/actions`, {
      method: "POST",
      body: `service=svc&backend=${a.address}&state=drain`,
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/x-www-form-urlencoded" },
    });
    expect(res.status).toBe(403);
    expect((await answer(res)).error).toContain("--admin-token-file");
    expect(await (await fetch(`http://127.0.0.1:${adminPort}/`)).text()).toContain("Actions are off");
  });

  it("--workers 2: a drain reaches every worker", async () => {
    const { p, a, port, post, auth, status } = await program(["--workers", "2"]);
    await waitFor(() => p.lines.filter((l) => l.msg === "listening").length === 2, 10_000, "two workers");
    expect((await post(`service=svc&backend=${a.address}&state=drain`, auth)).status).toBe(200);
    // Whichever worker the kernel hands a connection to, it leaves A out.
    for (let i = 0; i < 12; i++) expect((await reach(port)).name).toBe("B");
    expect(a.accepted).toBe(0);
    const st = await status();
    for (const w of st.workers) expect(w.services[0]?.backends[0]?.operator).toBe("drain");
  });
});
