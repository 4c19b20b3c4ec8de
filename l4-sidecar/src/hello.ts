// Reads a TLS ClientHello off a freshly accepted client (tls listeners) before any backend is chosen, through
// the same read path the splice will use afterwards. The bytes are kept to be sent to the backend first.
import type net from "node:net";
import type { Forwarder } from "./forward.ts";
import { type HelloResult, MAX_HELLO_BYTES, parseClientHello } from "./sni.ts";

/** How long a client may take to send its ClientHello. */
export const HELLO_TIMEOUT_MS = 10_000;

export type HelloOutcome =
  | { ok: true; data: Buffer; serverName?: string }
  | { ok: false; reason: "not-tls" | "hello-timeout" | "client-closed"; detail?: string };

export function readClientHello(client: net.Socket, up: Forwarder, onread: boolean): Promise<HelloOutcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (outcome: HelloOutcome) => {
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
    const feed = (chunk: Buffer): boolean => {
      chunks.push(chunk);
      size += chunk.length;
      const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const r: HelloResult =
        size > MAX_HELLO_BYTES
          ? { status: "not-tls", reason: "ClientHello too large" }
          : parseClientHello(data);
      if (r.status === "need-more") return true;
      if (r.status === "not-tls") finish({ ok: false, reason: "not-tls", detail: r.reason });
      else finish({ ok: true, data, ...(r.serverName !== undefined ? { serverName: r.serverName } : {}) });
      return false;
    };
    const onData = (chunk: Buffer) => void feed(chunk);
    const onClose = () => finish({ ok: false, reason: "client-closed" });
    const timer = setTimeout(() => finish({ ok: false, reason: "hello-timeout" }), HELLO_TIMEOUT_MS);
    client.once("close", onClose);
    client.once("end", onClose); // a FIN before the ClientHello is complete
    if (onread) {
      up.collect = feed;
      client._read(0);
    } else {
      client.on("data", onData);
      client.resume();
    }
  });
}
