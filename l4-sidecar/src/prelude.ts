// Reads what a connection starts with before a backend can be chosen (a PROXY protocol header from a load
// balancer in front, a TLS ClientHello), through the same read path the splice uses afterwards. Every byte read
// is kept: what follows the parsed part goes to the backend first.
import type net from "node:net";
import type { Forwarder } from "./forward.ts";

/** How long a client may take to send what the listener must read first. */
export const PRELUDE_TIMEOUT_MS = 10_000;

export type PreludeStep<T> =
  | { status: "need-more" }
  | { status: "done"; value: T }
  | { status: "invalid"; reason: string };

export type PreludeOutcome<T> =
  | { ok: true; value: T; data: Buffer }
  | { ok: false; reason: "invalid" | "timeout" | "client-closed"; detail?: string };

export function readPrelude<T>(
  client: net.Socket,
  up: Forwarder,
  onread: boolean,
  initial: Buffer | undefined,
  parse: (data: Buffer) => PreludeStep<T>,
  maxBytes: number,
): Promise<PreludeOutcome<T>> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = initial?.length ? [initial] : [];
    let size = initial?.length ?? 0;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (outcome: PreludeOutcome<T>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.off("close", onClose);
      client.off("end", onClose);
      if (onread) up.collect = undefined;
      else {
        client.off("data", onData);
        client.pause();
      }
      resolve(outcome);
    };
    /** Looks at everything so far; false once decided (stop reading). */
    const check = (): boolean => {
      const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const r: PreludeStep<T> = size > maxBytes ? { status: "invalid", reason: "too long" } : parse(data);
      if (r.status === "need-more") return true;
      if (r.status === "invalid") finish({ ok: false, reason: "invalid", detail: r.reason });
      else finish({ ok: true, value: r.value, data });
      return false;
    };
    const feed = (chunk: Buffer): boolean => {
      chunks.push(chunk);
      size += chunk.length;
      return check();
    };
    const onData = (chunk: Buffer) => void feed(chunk);
    const onClose = () => finish({ ok: false, reason: "client-closed" });
    if (size > 0 && !check()) return;
    timer = setTimeout(() => finish({ ok: false, reason: "timeout" }), PRELUDE_TIMEOUT_MS);
    client.once("close", onClose);
    client.once("end", onClose); // a FIN before the prelude is complete
    if (onread) {
      up.collect = feed;
      client._read(0);
    } else {
      client.on("data", onData);
      client.resume();
    }
  });
}
