// Reads at most `limit` bytes of a request body for inspection, from a clone, so the original stream still
// reaches the backend untouched. Bodies that cannot carry attacks in text (images, archives) are not read.
import type { InspectBody } from "../../../core/waf/inspect.ts";

const TEXTUAL =
  /^(?:application\/(?:x-www-form-urlencoded|json|[\w.+-]*\+json|xml|[\w.+-]*\+xml|graphql|javascript)|multipart\/form-data|text\/)/i;

export async function readBodyPrefix(req: Request, limit: number): Promise<InspectBody | undefined> {
  if (limit <= 0 || req.body === null) return undefined;
  const contentType = req.headers.get("content-type") ?? "";
  // No Content-Type: inspect as text too; an attacker choosing to omit it must not hide the body.
  if (contentType !== "" && !TEXTUAL.test(contentType)) return undefined;
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
    }
  } finally {
    if (truncated) await reader.cancel().catch(() => {});
    else reader.releaseLock();
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return { text: new TextDecoder().decode(bytes), contentType, truncated };
}
