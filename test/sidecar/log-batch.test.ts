// Log lines are handed to stdout's destination in batches (l4-sidecar/src/log-batch.ts): in order, none lost,
// encoded as UTF-8 once.
import { describe, expect, it } from "vitest";
import { LineBatch } from "../../l4-sidecar/src/log-batch.ts";

function collect(size: number) {
  const chunks: Buffer[] = [];
  const batch = new LineBatch({ write: (c) => chunks.push(c) }, size);
  return { batch, text: () => chunks.map((c) => c.toString("utf8")) };
}

describe("LineBatch", () => {
  it("holds lines until the next might not fit, then writes them as one chunk, in order", () => {
    const { batch, text } = collect(24);
    batch.write("a\n");
    batch.write("bb\n"); // 5 bytes held; 3 bytes per character reserved for the next line
    expect(text()).toEqual([]);
    expect(batch.pending).toBe(true);
    batch.write("cccccc\n"); // 5 + 7 * 3 > 24: what is held goes first
    expect(text()).toEqual(["a\nbb\n"]);
    batch.flush();
    expect(text()).toEqual(["a\nbb\n", "cccccc\n"]);
    expect(batch.pending).toBe(false);
  });

  it("flush() writes what is waiting, and nothing when nothing is", () => {
    const { batch, text } = collect(1000);
    batch.flush();
    expect(text()).toEqual([]);
    batch.write("one\n");
    batch.write("two\n");
    batch.flush();
    batch.write("three\n");
    batch.flush();
    expect(text()).toEqual(["one\ntwo\n", "three\n"]);
  });

  it("a line longer than the batch goes out at once, after what was waiting", () => {
    const { batch, text } = collect(12);
    batch.write("a\n");
    batch.write("0123456789\n");
    expect(text()).toEqual(["a\n", "0123456789\n"]);
  });

  it("encodes beyond ASCII as UTF-8, and a chunk handed over is never written into again", () => {
    const chunks: Buffer[] = [];
    const batch = new LineBatch({ write: (c) => chunks.push(c) }, 64);
    batch.write("é😀\u2028\n");
    batch.flush();
    batch.write("later\n");
    batch.flush();
    expect(chunks.map((c) => c.toString("utf8"))).toEqual(["é😀\u2028\n", "later\n"]);
    expect(chunks[0]!.length).toBe(Buffer.byteLength("é😀\u2028\n"));
  });
});
