// Reference peers for the sidecar's short-connection rate: what Node itself reaches on this machine with no
// features at all (no balancing, logs, stats, timeouts). Independent of the sidecar's code on purpose.
//   pipe <listen> <backend>  the naive net.Server + pipe() proxy (the "40-line" baseline)
//   raw  <listen> <backend> [reuseport]  the same on Node's TCP handles directly, the calls the sidecar's raw
//                            path makes; with "reuseport", several processes can share the port (both cores)
// Prints "ready" once listening.
import net from "node:net";

const [mode, listenArg, backendArg, shared] = process.argv.slice(2);
const listen = Number(listenArg);
const backend = Number(backendArg);

if (mode === "pipe") {
  net
    .createServer({ allowHalfOpen: true }, (c) => {
      const b = net.connect({ port: backend, host: "127.0.0.1", allowHalfOpen: true });
      c.pipe(b);
      b.pipe(c);
      c.on("error", () => b.destroy());
      b.on("error", () => c.destroy());
    })
    .listen({ port: listen, host: "127.0.0.1", backlog: 4096 }, () => console.log("ready"));
} else if (mode === "raw") {
  raw();
} else {
  console.error("usage: node-floor-proxy.ts pipe|raw <listen port> <backend port>");
  process.exit(2);
}

interface Handle {
  onread: () => void;
  eof?: boolean;
  useUserBuffer(b: Buffer): void;
  writeBuffer(req: unknown, b: Buffer): number;
  shutdown(req: unknown): number;
  readStart(): number;
  readStop(): number;
  close(): void;
  bind(host: string, port: number, flags: number): number;
  listen(backlog: number): number;
  connect(req: unknown, host: string, port: number): number;
}

function raw(): void {
  const bind = (process as unknown as { binding(n: string): Record<string, never> }).binding;
  const { TCP, TCPConnectWrap, constants } = bind("tcp_wrap") as Record<string, never> & {
    TCP: new (t: number) => Handle & { onconnection: (err: number, h: Handle) => void };
    TCPConnectWrap: new () => Record<string, unknown>;
    constants: { SOCKET: number; SERVER: number; UV_TCP_REUSEPORT: number };
  };
  const sw = bind("stream_wrap") as Record<string, never> & {
    WriteWrap: new () => Record<string, unknown>;
    ShutdownWrap: new () => Record<string, unknown>;
    streamBaseState: Int32Array;
    kReadBytesOrError: number;
  };
  const noop = () => {};
  const side = (src: Handle, dst: Handle) => {
    const buf = Buffer.allocUnsafe(16384);
    src.useUserBuffer(buf);
    src.onread = () => {
      const n = sw.streamBaseState[sw.kReadBytesOrError]!;
      if (n > 0) {
        const req = new sw.WriteWrap();
        Object.assign(req, { handle: dst, oncomplete: noop, async: false });
        dst.writeBuffer(req, Buffer.from(buf.subarray(0, n)));
        return;
      }
      src.readStop();
      src.eof = true;
      if (dst.eof) {
        src.close();
        dst.close();
        return;
      }
      const req = new sw.ShutdownWrap();
      Object.assign(req, { handle: dst, oncomplete: noop });
      dst.shutdown(req);
    };
  };
  const server = new TCP(constants.SERVER);
  const flags = shared === "reuseport" ? constants.UV_TCP_REUSEPORT : 0;
  if (server.bind("127.0.0.1", listen, flags) || server.listen(4096)) throw new Error("cannot listen");
  server.onconnection = (err, client) => {
    if (err) return;
    const b = new TCP(constants.SOCKET);
    const req = new TCPConnectWrap();
    req.oncomplete = (status: number) => {
      if (status < 0) {
        client.close();
        b.close();
        return;
      }
      side(client, b);
      side(b, client);
      client.readStart();
      b.readStart();
    };
    if (b.connect(req, "127.0.0.1", backend)) {
      client.close();
      b.close();
    }
  };
  console.log("ready");
}
