// Content-Encoding of a request body, undone with a bound: gzip and deflate through the platform's
// DecompressionStream, never more than `limit` bytes of output kept (and at most 16 × limit decompressed, to
// tell a bomb from a large body). What cannot be undone is reported as an
// anomaly id (anomalies.ts) instead: an unknown or unsupported coding (br and zstd included: DecompressionStream
// in workerd offers only gzip and deflate), a bomb (output past the limit at a ratio no text body reaches), a
// corrupt stream.

/** Output past the limit from less than 1/RATIO of it in input is a bomb, not a large body. */
export const BOMB_RATIO = 100;

export const UNDECODABLE = "920901";
export const BOMB = "920902";
export const CORRUPT = "920903";

type Format = "gzip" | "deflate" | "deflate-raw";

export interface Decoded {
  /** The decoded bytes (at most limit), or undefined when they could not be had. */
  bytes?: Uint8Array;
  /** Only a prefix was decoded: the output went past the limit, or the input was already cut. */
  truncated: boolean;
  /** An anomaly id, when the body could not be decoded in full. */
  anomaly?: { id: string; snippet: string };
}

/** The codings in the order they were applied; identity removed. */
export function codings(header: string): string[] {
  return header
    .toLowerCase()
    .split(",")
    .map((c) => c.trim())
    .filter((c) => c !== "" && c !== "identity");
}

/** How far past the limit decompression goes (output discarded) to measure the ratio of a large body. */
const MEASURE_FACTOR = 16;

async function inflate(
  input: Uint8Array,
  format: Format,
  limit: number,
): Promise<{ out: Uint8Array; total: number; error: boolean }> {
  const reader = new Blob([input as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new DecompressionStream(format))
    .getReader();
  const chunks: Uint8Array[] = [];
  const cap = limit * MEASURE_FACTOR;
  let total = 0;
  let error = false;
  try {
    while (total < cap) {
      const { done, value } = await reader.read();
      if (done) break;
      const room = limit - total;
      if (room > 0) chunks.push(value.byteLength > room ? value.subarray(0, room) : value);
      total += value.byteLength;
    }
  } catch {
    error = true;
  } finally {
    if (total >= cap) await reader.cancel().catch(() => {});
  }
  return { out: concat(chunks, Math.min(total, limit)), total, error };
}

export function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]!.byteLength === size) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * Undoes Content-Encoding. `inputTruncated`: the compressed bytes are only the first part of the body, so a
 * stream that ends early is expected, not corrupt.
 */
export async function decodeContentEncoding(
  input: Uint8Array,
  header: string,
  limit: number,
  inputTruncated: boolean,
): Promise<Decoded> {
  const list = codings(header);
  let bytes = input;
  let truncated = inputTruncated;
  for (let i = list.length - 1; i >= 0; i--) {
    const c = list[i]!;
    const format: Format | undefined =
      c === "gzip" || c === "x-gzip" ? "gzip" : c === "deflate" ? "deflate" : undefined;
    if (!format) return { truncated, anomaly: { id: UNDECODABLE, snippet: c } };
    let r = await inflate(bytes, format, limit);
    // "deflate" is zlib-wrapped (RFC 9110), but some clients send the raw stream.
    if (r.error && format === "deflate" && r.total === 0) r = await inflate(bytes, "deflate-raw", limit);
    const over = r.total > limit;
    if (over && r.total >= bytes.byteLength * BOMB_RATIO) {
      return {
        truncated: true,
        anomaly: { id: BOMB, snippet: `${c}: ${bytes.byteLength} bytes to over ${limit}` },
      };
    }
    if (r.error && !truncated) return { bytes: r.out, truncated, anomaly: { id: CORRUPT, snippet: c } };
    bytes = r.out;
    truncated ||= over;
  }
  return { bytes, truncated };
}
