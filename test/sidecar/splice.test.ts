// The native engine's bulk path: once a read fills its 64 KiB buffer, a direction moves through a pipe with
// splice(2). Checked from the outside: the process holds pipe descriptors while a bulk transfer runs, the bytes
// arrive exact both ways with half-close and backpressure, and the pipes are closed when the connection ends.
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { readdirSync, readlinkSync } from "node:fs";
import type net from "node:net";
import { describe, expect, it } from "vitest";
import { backend, connect, sleep, startSidecar, tcpConfig, useDataPath, waitFor } from "./helpers.ts";

/** Pipe descriptors this process holds now. */
function pipes(): number {
  let n = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith("pipe:")) n++;
    } catch {} // closed meanwhile
  }
  return n;
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

async function writeAll(s: net.Socket, data: Buffer): Promise<void> {
  for (let off = 0; off < data.length; off += 65536) {
    if (!s.write(data.subarray(off, off + 65536))) await once(s, "drain");
  }
  s.end();
}

describe("splice on the native data path", () => {
  useDataPath("native");

  it("moves a bulk transfer through pipes, byte-exact both ways, and closes them at the end", async () => {
    const up = randomBytes(48 * 1024 * 1024);
    const down = randomBytes(48 * 1024 * 1024);
    let upHash = "";
    let held: net.Socket | undefined;
    const b = await backend((s) => {
      held = s;
      const h = createHash("sha256");
      s.on("data", (c: Buffer) => h.update(c));
      s.on("end", () => {
        upHash = h.digest("hex");
      });
    });
    const { port, connections } = await startSidecar(tcpConfig([b.address]));
    const before = pipes();
    const c = await connect(port);
    const h = createHash("sha256");
    let got = 0;
    let most = 0;
    c.on("data", (chunk: Buffer) => {
      got += chunk.length;
      h.update(chunk);
      most = Math.max(most, pipes());
      // A slow reader now and then, so the pipe towards it fills and the backend waits (backpressure).
      if (got % (8 * 65536) < chunk.length) {
        c.pause();
        setTimeout(() => c.resume(), 2);
      }
    });
    const ended = once(c, "end");
    await waitFor(() => held !== undefined);
    await Promise.all([writeAll(c, up), writeAll(held!, down)]);
    await ended;
    expect(got).toBe(down.length);
    expect(h.digest("hex")).toBe(sha256(down));
    await waitFor(() => upHash !== "", 10_000, "backend hash");
    expect(upHash).toBe(sha256(up));
    // Two pipes (read and write end each) per direction while bulk data flowed.
    expect(most - before).toBeGreaterThanOrEqual(2);
    await waitFor(() => connections().length === 1);
    expect(connections()[0]).toMatchObject({ bytes_in: up.length, bytes_out: down.length });
    await sleep(10);
    expect(pipes()).toBe(before);
  });

  it("a small exchange never takes a pipe", async () => {
    const b = await backend((s) => s.pipe(s));
    const { port } = await startSidecar(tcpConfig([b.address]));
    const before = pipes();
    const c = await connect(port);
    for (let i = 0; i < 20; i++) {
      const reply = once(c, "data");
      c.write(Buffer.alloc(1000, i));
      await reply;
      expect(pipes()).toBe(before);
    }
  });
});
