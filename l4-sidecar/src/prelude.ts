// What a connection starts with before a backend can be chosen (a PROXY protocol header from a load balancer in
// front, a TLS ClientHello): one step of reading it, and how a failed one is named. connection.ts drives it.

/** How long a client may take to send what the listener must read first. */
export const PRELUDE_TIMEOUT_MS = 10_000;

export type PreludeStep<T> =
  | { status: "need-more" }
  | { status: "done"; value: T }
  | { status: "invalid"; reason: string };

/** What a listener reads first, and the `closed_by` of a client whose prelude failed (on every data path). */
export type PreludeKind = "proxy" | "hello";
export function preludeCloseReason(kind: PreludeKind, why: "invalid" | "timeout" | "client-closed"): string {
  if (kind === "proxy") return why === "invalid" ? "bad-proxy-header" : why;
  return why === "invalid" ? "not-tls" : `hello-${why}`;
}

/** One look at what has arrived so far: too long, or what `parse` makes of it. */
export function preludeStep<T>(
  data: Buffer,
  parse: (data: Buffer) => PreludeStep<T>,
  maxBytes: number,
): PreludeStep<T> {
  return data.length > maxBytes ? { status: "invalid", reason: "too long" } : parse(data);
}
