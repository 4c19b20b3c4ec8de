// Live config and the dashboard end to end: `switchyard push --local` writes a config into a local KV state
// directory, `wrangler dev` serves from that same state (the KV document overrides [vars.SWITCHYARD]), and Debian's
// chromium, driven by playwright-core, opens the dashboard with the token, sees its numbers change after real
// traffic, and saves a screenshot. A second push is picked up by the running worker within admin.refresh.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpDemo } from "../../scripts/demo/backends.ts";
import { freePort } from "../sidecar/helpers.ts";
import { launchChromium } from "./helpers/chromium.ts";

// The functions given to page.waitForFunction run in the browser; this is all of the DOM they use.
declare const document: { getElementById(id: string): { textContent: string | null } | null };

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
const artifacts = join(root, "test/e2e/artifacts");
const TOKEN = "e2e-dashboard-token";
const state = mkdtempSync(join(tmpdir(), "switchyard-e2e-"));
const env = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };

let worker: ChildProcess | undefined;
let workerLog = "";
let browser: Browser | undefined;
const backends: Server[] = [];
let port = 0;
let base = "";

function configFor(ports: number[], version: string) {
  return {
    services: [{ name: "web", backends: ports.map((p) => ({ url: `http://127.0.0.1:${p}` })) }],
    routes: [
      { name: `web-${version}`, match: { host: ["127.0.0.1", "localhost"] }, service: "web" },
      {
        name: "teapot",
        match: { host: ["127.0.0.1", "localhost"], path: { exact: "/teapot" } },
        respond: { status: 418, body: "short and stout" },
      },
    ],
    admin: { refresh: "1s" },
  };
}

async function cli(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, ["cli/switchyard.ts", ...args], { cwd: root, env });
}

const admin = (path: string, init: RequestInit = {}) =>
  fetch(`${base}/__switchyard/${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}` } });

let configFile = "";
let backendPorts: number[] = [];

beforeAll(async () => {
  for (const name of ["dash-1", "dash-2"]) backends.push(await startHttpDemo(name, 0));
  backendPorts = backends.map((s) => (s.address() as { port: number }).port);
  configFile = join(state, "live.json");
  writeFileSync(configFile, JSON.stringify(configFor(backendPorts, "v1"), null, 2));
  const pushed = await cli("push", configFile, "--persist-to", state, "--wrangler-config", "wrangler.toml");
  expect(pushed.stdout).toMatch(/as version 1/);

  port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const inspector = await freePort();
  worker = spawn(
    process.execPath,
    [
      "node_modules/wrangler/bin/wrangler.js",
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspector),
      "--persist-to",
      state,
      "--var",
      `ADMIN_TOKEN:${TOKEN}`,
      "--show-interactive-dev-session=false",
    ],
    { cwd: root, env, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  worker.stdout!.on("data", (d: Buffer) => (workerLog += d));
  worker.stderr!.on("data", (d: Buffer) => (workerLog += d));
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (worker.exitCode !== null) throw new Error(`wrangler dev exited early:\n${workerLog}`);
    try {
      if ((await admin("health")).status === 200) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 500));
  }
  if (Date.now() >= deadline) throw new Error(`wrangler dev did not come up within 90s:\n${workerLog}`);
  browser = await launchChromium();
}, 150_000);

afterAll(async () => {
  await browser?.close();
  if (worker?.pid && worker.exitCode === null) {
    const exited = new Promise((r) => worker!.once("exit", r));
    process.kill(-worker.pid, "SIGINT");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (worker.exitCode === null) process.kill(-worker.pid, "SIGKILL");
  }
  for (const s of backends) s.close();
  rmSync(state, { recursive: true, force: true });
});

describe("live config in wrangler dev's local KV", () => {
  it("serves the pushed document instead of [vars.SWITCHYARD]", async () => {
    const res = await admin("config");
    expect(res.headers.get("x-switchyard-config-version")).toBe("1");
    expect(((await res.json()) as { routes: { name: string }[] }).routes[0]!.name).toBe("web-v1");
    const proxied = (await (await fetch(`${base}/hello`)).json()) as { backend: string };
    expect(["dash-1", "dash-2"]).toContain(proxied.backend);
  });

  it("switchyard diff shows what push would change; explain works offline on the same file", async () => {
    writeFileSync(configFile, JSON.stringify(configFor(backendPorts.slice(0, 1), "v1"), null, 2));
    const { stdout } = await cli(
      "diff",
      configFile,
      "--persist-to",
      state,
      "--wrangler-config",
      "wrangler.toml",
    );
    expect(stdout).toMatch(/1 change\(s\) against version 1/);
    expect(stdout).toMatch(/^- services\[0\]\.backends\[1\]: \{"url":"http:\/\/127\.0\.0\.1:\d+"\}$/m);
    const explained = await cli("explain", `GET http://localhost/x`, "--config", configFile);
    expect(explained.stdout).toMatch(/^route: web-v1$/m);
    expect(explained.stdout).toMatch(/✖ teapot: path "\/x" does not match exact "\/teapot"/);
    const bad = await cli("push", join(root, "package.json"), "--persist-to", state).catch((e) => e);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/problem/);
  });
});

describe("dashboard in a real browser", () => {
  it("loads with the token, shows numbers that change after traffic, and a new pushed version", async () => {
    const page = await browser!.newPage({ viewport: { width: 1360, height: 1000 } });
    await page.goto(`${base}/__switchyard/#token=${TOKEN}`);
    await page.waitForFunction(() => /^\d/.test(document.getElementById("total")?.textContent ?? ""), null, {
      timeout: 15_000,
    });
    const number = async (id: string) => Number((await page.textContent(`#${id}`))!.replace(/[^\d.]/g, ""));
    const before = await number("total");
    expect(await page.textContent("#version")).toMatch(/config v1/);
    expect(page.url()).not.toContain(TOKEN); // the fragment is dropped once read

    const responses = await Promise.all(
      Array.from({ length: 40 }, (_, i) => fetch(`${base}/${i % 8 === 0 ? "teapot" : `page-${i}`}`)),
    );
    expect(responses.filter((r) => r.status === 418)).toHaveLength(5);
    await Promise.all(responses.map((r) => r.arrayBuffer()));

    await page.waitForFunction(
      (n) => Number((document.getElementById("total")?.textContent ?? "0").replace(/[^\d.]/g, "")) >= n + 40,
      before,
      { timeout: 15_000 },
    );
    expect(await number("total")).toBeGreaterThanOrEqual(before + 40);
    expect(await number("rps")).toBeGreaterThan(0);
    expect(await page.textContent("#routes")).toContain("teapot");
    expect(await page.locator('[data-route-requests="teapot"]').textContent()).toBe("5");
    expect(await page.textContent("#services")).toContain(`127.0.0.1:${backendPorts[0]}`);

    // A second push reaches the running worker within admin.refresh (1s), and the dashboard shows it.
    writeFileSync(configFile, JSON.stringify(configFor(backendPorts, "v2"), null, 2));
    const pushed = await cli("push", configFile, "--persist-to", state, "--wrangler-config", "wrangler.toml");
    expect(pushed.stdout).toMatch(/as version 2/);
    await fetch(`${base}/tick`).then((r) => r.arrayBuffer());
    await page.waitForFunction(
      () => /config v2/.test(document.getElementById("version")?.textContent ?? ""),
      null,
      {
        timeout: 15_000,
      },
    );
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, "dashboard.png"), fullPage: true });
    await page.close();
  });

  it("asks for the token when the page is opened without one, and a wrong token is refused", async () => {
    const page = await browser!.newPage();
    await page.goto(`${base}/__switchyard/`);
    await page.waitForSelector("#login-form", { state: "visible", timeout: 10_000 });
    await page.fill("#token", "wrong");
    await page.click("button[type=submit]");
    await page.waitForSelector("#login-form", { state: "visible", timeout: 10_000 });
    expect(await page.textContent("#total")).toBe("–");
    await page.fill("#token", TOKEN);
    await page.click("button[type=submit]");
    await page.waitForFunction(() => /^\d/.test(document.getElementById("total")?.textContent ?? ""), null, {
      timeout: 10_000,
    });
    await page.close();
  });
});
