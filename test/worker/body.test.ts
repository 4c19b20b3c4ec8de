// ReplayableBody: every attempt sees the whole body while it fits the replay window; past it, the body streams
// on to the one attempt and cannot be offered again.
import { describe, expect, it } from "vitest";
import { ReplayableBody } from "../../worker/src/proxy/body.ts";
import { generatedBody, sha256Hex } from "./helpers.ts";

describe("ReplayableBody", () => {
  it("gives a second attempt the full body after the first read part of it", async () => {
    const [forHash, source] = generatedBody(100_000, 5).tee();
    const expected = await sha256Hex(forHash);
    const body = new ReplayableBody(source, 256 * 1024);
    const first = body.stream()!.getReader();
    await first.read(); // the first attempt took one chunk, then failed
    await first.cancel();
    expect(body.replayable).toBe(true);
    expect(await sha256Hex(body.stream()!)).toEqual(expected);
  });

  it("stops being replayable once more than the window was read, and still delivers every byte", async () => {
    const [forHash, source] = generatedBody(1024 * 1024, 9).tee();
    const expected = await sha256Hex(forHash);
    const body = new ReplayableBody(source, 64 * 1024);
    expect(await sha256Hex(body.stream()!)).toEqual(expected);
    expect(body.replayable).toBe(false);
  });

  it("has no stream for a request without a body", () => {
    expect(new ReplayableBody(null).stream()).toBeNull();
  });
});
