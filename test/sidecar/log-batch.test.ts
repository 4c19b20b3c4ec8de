// Log lines are handed to stdout's destination in batches (l4-sidecar/src/log-batch.ts): in order, none lost.
import { describe, expect, it } from "vitest";
import { LineBatch } from "../../l4-sidecar/src/log-batch.ts";

describe("LineBatch", () => {
  it("holds lines until the batch is full, then writes them as one chunk, in order", () => {
    const chunks: string[] = [];
    const batch = new LineBatch({ write: (c) => chunks.push(c) }, 10);
    batch.write("a\n");
    batch.write("bb\n");
    expect(chunks).toEqual([]);
    expect(batch.pending).toBe(true);
    batch.write("cccccc\n"); // 12 characters waiting: over the size
    expect(chunks).toEqual(["a\nbb\ncccccc\n"]);
    expect(batch.pending).toBe(false);
  });

  it("flush() writes what is waiting, and nothing when nothing is", () => {
    const chunks: string[] = [];
    const batch = new LineBatch({ write: (c) => chunks.push(c) }, 1000);
    batch.flush();
    expect(chunks).toEqual([]);
    batch.write("one\n");
    batch.write("two\n");
    batch.flush();
    batch.write("three\n");
    batch.flush();
    expect(chunks).toEqual(["one\ntwo\n", "three\n"]);
  });

  it("a line longer than the batch goes out at once", () => {
    const chunks: string[] = [];
    const batch = new LineBatch({ write: (c) => chunks.push(c) }, 4);
    batch.write("0123456789\n");
    expect(chunks).toEqual(["0123456789\n"]);
  });
});
