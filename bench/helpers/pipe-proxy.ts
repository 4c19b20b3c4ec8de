// The naive Node proxy the sidecar issue measures against: net.Server + pipe() both ways, no features.
//   pipe-proxy.ts <listen port> <backend port>
import net from "node:net";

const [listen, backend] = process.argv.slice(2).map(Number);
if (!listen || !backend) {
  console.error("usage: pipe-proxy.ts <listen port> <backend port>");
  process.exit(2);
}
net
  .createServer({ allowHalfOpen: true }, (c) => {
    const b = net.connect({ port: backend, host: "127.0.0.1", allowHalfOpen: true });
    c.pipe(b);
    b.pipe(c);
    c.on("error", () => b.destroy());
    b.on("error", () => c.destroy());
  })
  .listen({ port: listen, host: "127.0.0.1", backlog: 4096 }, () => console.log("ready"));
