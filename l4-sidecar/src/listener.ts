// One TCP listener: accept → admit → select a backend → connect (failing over) → splice → log.
// Settings are swapped on reload; a connection keeps the settings it was accepted with (it drains on them).
import net from "node:net";
import type { Listener } from "../../core/config/index.ts";
import { ConnectError, connectBackend } from "./connect.ts";
import type { Logger } from "./log.ts";
import { type CloseReason, type Pipe, splice } from "./pipe.ts";
import type { ServicePool } from "./pool.ts";

export interface ListenerSettings {
  listener: Listener;
  pool: ServicePool;
}

interface Conn {
  pipe?: Pipe;
  client: net.Socket;
}

export class TcpListener {
  readonly name: string;
  readonly listen: string;
  private settings: ListenerSettings;
  private readonly server: net.Server;
  private readonly log: Logger;
  private readonly conns = new Set<Conn>();
  private closing = false;
  private drained?: () => void;

  constructor(settings: ListenerSettings, log: Logger) {
    this.name = settings.listener.name;
    this.listen = settings.listener.listen;
    this.settings = settings;
    this.log = log;
    this.server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
      void this.handle(socket);
    });
  }

  /** Binds the address; rejects with the OS error (e.g. EADDRINUSE) when it cannot. */
  start(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen({ host, port }, () => {
        this.server.off("error", reject);
        this.server.on("error", (err) =>
          this.log.error({ listener: this.name, err: err.message }, "listener error"),
        );
        resolve();
      });
    });
  }

  /** The bound port (useful when the config asks for port 0). */
  port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  get activeConnections(): number {
    return this.conns.size;
  }

  update(settings: ListenerSettings): void {
    this.settings = settings;
  }

  /** Stops accepting; resolves once every connection has ended. */
  close(): Promise<void> {
    this.closing = true;
    this.server.close();
    if (this.conns.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.drained = resolve;
    });
  }

  /** Resets every open connection (drain deadline passed). */
  abortAll(reason: CloseReason = "shutdown"): void {
    for (const c of this.conns) {
      if (c.pipe) c.pipe.abort(reason);
      else c.client.destroy();
    }
  }

  private async handle(client: net.Socket): Promise<void> {
    const s = this.settings;
    const started = performance.now();
    const conn: Conn = { client };
    this.conns.add(conn);
    let clientError: string | undefined;
    const onEarlyError = (err: NodeJS.ErrnoException) => {
      clientError = err.code ?? err.message;
    };
    client.on("error", onEarlyError);
    const clientAddr = `${client.remoteAddress}:${client.remotePort}`;
    const entry: Record<string, unknown> = { listener: this.name, client: clientAddr };
    try {
      const { pool } = s;
      const tried = new Set<number>();
      const maxAttempts = pool.backends.length;
      let backend: net.Socket | undefined;
      let chosen = -1;
      const failures: string[] = [];
      while (tried.size < maxAttempts && !client.destroyed) {
        const i = pool.pick(client.remoteAddress, tried);
        if (i === undefined) break;
        tried.add(i);
        const b = pool.backends[i]!.state;
        pool.started(i);
        try {
          backend = await connectBackend({
            host: b.host,
            port: b.port,
            timeoutMs: 5000,
            noDelay: true,
            keepAliveMs: 60_000,
          });
          chosen = i;
          break;
        } catch (err) {
          pool.ended(i);
          const code = err instanceof ConnectError ? err.code : "SY_CONNECT_FAILED";
          failures.push(`${b.address} ${code}`);
          this.log.debug(
            { listener: this.name, backend: b.address, code },
            "connect failed, trying the next backend",
          );
        }
      }
      entry.attempts = tried.size;
      if (failures.length) entry.connect_failures = failures;
      if (!backend || client.destroyed) {
        backend?.destroy();
        if (chosen >= 0) pool.ended(chosen);
        // Nothing can serve this client: close it at once rather than leave it hanging.
        client.destroy();
        entry.closed_by = clientError ? "client-reset" : "no-backend";
        entry.duration_ms = Math.round(performance.now() - started);
        this.log.warn(entry, "connection");
        return;
      }
      entry.backend = pool.backends[chosen]!.state.address;
      client.off("error", onEarlyError);
      client.setNoDelay(true);
      client.setKeepAlive(true, 60_000);
      conn.pipe = splice(client, backend, { idleTimeoutMs: 0 });
      const result = await conn.pipe.done;
      pool.ended(chosen);
      entry.bytes_in = result.bytesIn;
      entry.bytes_out = result.bytesOut;
      entry.closed_by = result.closedBy;
      if (result.error) entry.error = result.error;
      entry.duration_ms = Math.round(performance.now() - started);
      this.log.info(entry, "connection");
    } finally {
      this.conns.delete(conn);
      if (this.closing && this.conns.size === 0) this.drained?.();
    }
  }
}
