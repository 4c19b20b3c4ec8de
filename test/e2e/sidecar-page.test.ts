// The sidecar's operator page in Debian's chromium (playwright-core): the real program with a checked service
// (one backend up, one refusing), real traffic, then the page's own form drains a backend with the token;
// the page, /status and the traffic all follow. Saves test/e2e/artifacts/sidecar-page.png.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SidecarStatus } from "../../l4-sidecar/src/admin-page.ts";
import { backend, deadAddress, freePort, roundTrip, spawnSidecar, waitFor } from "../sidecar/helpers.ts";
import { launchChromium } from "./helpers/chromium.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const artifacts = join(root, "test/e2e/artifacts");
const TOKEN = "e2e-sidecar-page-token";
let browser: Browser | undefined;

beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

describe("the sidecar's operator page", () => {
  it("shows listeners and backends as tables and drains a backend from its form", async () => {
    const a = await backend((s) => s.pipe(s));
    const b = await backend((s) => s.pipe(s));
    const dead = await deadAddress();
    const dir = mkdtempSync(join(tmpdir(), "sy-page-"));
    const port = await freePort();
    const adminPort = await freePort();
    const file = join(dir, "sidecar.json");
    writeFileSync(
      file,
      JSON.stringify({
        services: [
          {
            name: "cache",
            balance: "round-robin",
            backends: [
              { address: a.address },
              { address: b.address, max_connections: 100 },
              { address: dead },
            ],
            health: { interval: "100ms", timeout: "1s", healthy: 1, unhealthy: 1 },
          },
        ],
        listeners: [{ name: "cache", listen: `127.0.0.1:${port}`, service: "cache", max_connections: 500 }],
      }),
    );
    const tokenFile = join(dir, "token");
    writeFileSync(tokenFile, TOKEN);
    const p = spawnSidecar([
      "--config",
      file,
      "--admin",
      `127.0.0.1:${adminPort}`,
      "--admin-token-file",
      tokenFile,
    ]);
    await p.waitForLog("started");
    await p.waitForLog("backend health changed");
    for (let i = 0; i < 6; i++) expect(await roundTrip(port, `ping ${i}`)).toBe(`ping ${i}`);

    const page = await browser!.newPage({ viewport: { width: 1280, height: 600 } });
    await page.goto(`http://127.0.0.1:${adminPort}/`);
    const listenerRow = page.locator("table").first().locator("tbody tr");
    expect(await listenerRow.locator("td").first().textContent()).toBe("cache");
    // Connections total (6) and the limit (500) are in the listener's row.
    expect(await listenerRow.textContent()).toMatch(/500[\s\S]*6/);
    const rows = page.locator("form table tbody tr");
    expect(await rows.count()).toBe(3);
    expect(await rows.nth(0).locator("td.state").textContent()).toBe("UP");
    expect(await rows.nth(2).locator("td.state").textContent()).toBe("DOWN");
    expect(await rows.nth(2).textContent()).toContain("L4FAIL");
    expect(await rows.nth(0).textContent()).toContain("L4OK");

    // Tick A, choose drain, give the token, apply: the page comes back showing it.
    await rows.nth(0).locator('input[type="checkbox"]').check();
    await page.selectOption("select[name=state]", "drain");
    await page.fill("input[name=token]", TOKEN);
    await Promise.all([page.waitForURL(`http://127.0.0.1:${adminPort}/`), page.click("button[type=submit]")]);
    expect(await page.locator("form table tbody tr").nth(0).locator("td.state").textContent()).toBe("DRAIN");
    const status = (await (await fetch(`http://127.0.0.1:${adminPort}/status`)).json()) as SidecarStatus;
    expect(status.services[0]?.backends[0]?.operator).toBe("drain");
    // Health probes still reach A (drain keeps checking it); proxied connections no longer do.
    const served = (address: string) =>
      p.lines.filter((l) => l.msg === "connection" && l.backend === address).length;
    await waitFor(() => served(a.address) + served(b.address) === 6);
    const before = served(a.address);
    for (let i = 0; i < 4; i++) await roundTrip(port, "x");
    await waitFor(() => served(a.address) + served(b.address) === 10);
    expect(served(a.address)).toBe(before);

    mkdirSync(artifacts, { recursive: true });
    await page.reload();
    await page.screenshot({ path: join(artifacts, "sidecar-page.png"), fullPage: true });
    await page.close();
    p.child.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  });
});
