// Reads at most `limit` bytes of a request body for inspection, from a clone, so the original stream still
// reaches the backend untouched, and undoes its Content-Encoding (bounded: see core/waf/body/content-encoding).
// Every body is read whatever its Content-Type claims; core/waf/inspect.ts decides what it is.
import type { Anomaly } from "../../../core/waf/anomalies.ts";
import { codings, concat, decodeContentEncoding } from "../../../core/waf/body/content-encoding.ts";
import type { InspectBody } from "../../../core/waf/inspect.ts";

async function readPrefix(req: Request, limit: number): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  // With a Content-Length, the read that brings the last byte ends it: no further read waits for the stream's end.
  const length = Number(req.headers.get("content-length") ?? Number.NaN);
  const reader = req.clone().body!.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const room = limit - size;
      if (value.byteLength > room) {
        chunks.push(value.subarray(0, room));
        size = limit;
        truncated = true;
        break;
      }
      chunks.push(value);
      size += value.byteLength;
      if (size === length) break;
    }
  } finally {
    if (truncated) await reader.cancel().catch(() => {});
    else reader.releaseLock();
  }
  return { bytes: concat(chunks, size), truncated };
}

export async function readBodyPrefix(req: Request, limit: number): Promise<InspectBody | undefined> {
  if (limit <= 0 || req.body === null) return undefined;
  const contentType = req.headers.get("content-type") ?? "";
  const encoding = req.headers.get("content-encoding") ?? "";
  const raw = await readPrefix(req, limit);
  if (encoding === "" || codings(encoding).length === 0) return { contentType, ...raw, limit };
  const decoded = await decodeContentEncoding(raw.bytes, encoding, limit, raw.truncated);
  const anomalies: Anomaly[] = [];
  if (decoded.anomaly) anomalies.push({ location: "header:content-encoding", ...decoded.anomaly });
  return { contentType, bytes: decoded.bytes, truncated: decoded.truncated, limit, anomalies };
}
