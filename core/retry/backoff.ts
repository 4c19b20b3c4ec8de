// Backoff between retries: exponential with full jitter (AWS architecture blog, "Exponential Backoff And
// Jitter"), so clients that failed together do not retry together. A backend's Retry-After is honoured, but
// never beyond the cap: a retry that would wait longer than the cap is not worth holding the client for.

/** The delay before retry number `retry` (1 = the first retry), in ms. */
export function backoffDelay(
  retry: number,
  baseMs: number,
  maxMs: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined) return Math.min(Math.max(0, retryAfterMs), maxMs);
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(30, retry - 1));
  return Math.floor(random() * ceiling);
}

/** A Retry-After header (delta seconds or an HTTP date) in ms from `now`, or undefined. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
