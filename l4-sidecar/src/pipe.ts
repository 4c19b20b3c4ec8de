// Splices a client and a backend socket: bytes both ways through two Forwarders (backpressure), a FIN on one
// side becomes a FIN on the other (half-close), a reset or error on one side resets the other, and the idle
// timer covers both directions.
import type net from "node:net";
import type { Forwarder } from "./forward.ts";

export type CloseReason =
  | "client" // the client finished first (FIN)
  | "backend" // the backend finished first (FIN)
  | "client-reset"
  | "backend-reset"
  | "idle-timeout"
  | "shutdown"; // the sidecar ended it (drain deadline)

export interface PipeResult {
  /** Bytes the client sent to the backend. */
  bytesIn: number;
  /** Bytes the backend sent to the client. */
  bytesOut: number;
  closedBy: CloseReason;
  error?: string;
}

export interface Pipe {
  done: Promise<PipeResult>;
  /** Ends both sides now with a reset (drain deadline passed, or the listener is force-closed). */
  abort(reason: CloseReason): void;
}

export interface PipeOptions {
  idleTimeoutMs: number;
  /** The client socket reads through `onread` (Forwarder buffers); false: plain 'data' events. */
  clientOnread: boolean;
}

/** `up` carries client → backend, `down` backend → client; both already know their sockets. */
export function splice(
  client: net.Socket,
  backend: net.Socket,
  up: Forwarder,
  down: Forwarder,
  opts: PipeOptions,
): Pipe {
  let closedBy: CloseReason | undefined;
  let error: string | undefined;
  let closed = 0;
  let resolve!: (r: PipeResult) => void;
  const done = new Promise<PipeResult>((r) => {
    resolve = r;
  });
  const first = (reason: CloseReason) => {
    closedBy ??= reason;
  };

  // Pass a FIN on. When the other side has already sent its own FIN and nothing waits to be written to it,
  // both directions are done: close it outright (close() sends the FIN; a shutdown() first costs a syscall).
  const passFin = (dst: net.Socket) => {
    if (dst.readableEnded && dst.writableLength === 0) dst.destroy();
    else dst.end();
  };
  client.on("end", () => {
    first("client");
    passFin(backend);
  });
  backend.on("end", () => {
    first("backend");
    passFin(client);
  });
  const fail = (side: "client" | "backend") => (err: NodeJS.ErrnoException) => {
    if (closedBy === undefined) {
      closedBy = side === "client" ? "client-reset" : "backend-reset";
      error = err.code ?? err.message;
    }
    // An error on one side resets the other so the peer learns at once, as a TCP proxy should.
    (side === "client" ? backend : client).resetAndDestroy();
  };
  client.on("error", fail("client"));
  backend.on("error", fail("backend"));

  const onClose = () => {
    if (++closed < 2) {
      // One side closed without an error (e.g. destroyed locally): make sure the other follows.
      if (client.destroyed && !backend.destroyed && !backend.writableEnded) backend.end();
      if (backend.destroyed && !client.destroyed && !client.writableEnded) client.end();
      return;
    }
    resolve({
      bytesIn: up.bytes,
      bytesOut: down.bytes,
      closedBy: closedBy ?? "client",
      ...(error ? { error } : {}),
    });
  };
  client.on("close", onClose);
  backend.on("close", onClose);

  // Socket timers are reset by reads and writes, so the client socket alone sees traffic in both directions.
  if (opts.idleTimeoutMs > 0) {
    client.setTimeout(opts.idleTimeoutMs, () => {
      first("idle-timeout");
      client.destroy();
      backend.destroy();
    });
  }
  // In plain mode a client that sent its FIN while the backend was being chosen (after a prelude was read) has
  // already emitted 'end'; pass that FIN on now.
  if (client.readableEnded) {
    first("client");
    passFin(backend);
  }
  // The backend socket always reads through `down.onread` (set at connect); the client starts reading now.
  if (opts.clientOnread) client._read(0);
  else {
    up.pipeData();
    client.resume();
  }

  return {
    done,
    abort(reason) {
      first(reason);
      client.resetAndDestroy();
      backend.resetAndDestroy();
    },
  };
}
