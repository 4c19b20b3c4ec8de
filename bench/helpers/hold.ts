// Child process for the idle-connection RSS measurement, in its own process so the proxy's RSS is the proxy's:
//   server <port>     accepts and holds connections; prints "accepted <n>" whenever the count changes
//   client <port> <n> opens n connections (256 at a time) and holds them; prints "connected <ok> <failed>"
import net from "node:net";

const [mode, portArg, nArg] = process.argv.slice(2);
const port = Number(portArg);
const held: net.Socket[] = [];

if (mode === "server") {
  let last = -1;
  const server = net.createServer((s) => {
    s.on("error", () => {});
    held.push(s);
  });
  server.listen({ port, host: "127.0.0.1", backlog: 4096 }, () => console.log("ready"));
  setInterval(() => {
    if (held.length === last) return;
    last = held.length;
    console.log(`accepted ${last}`);
  }, 200);
} else if (mode === "client") {
  const n = Number(nArg);
  let ok = 0;
  let failed = 0;
  let started = 0;
  const next = (): void => {
    if (started >= n) {
      if (ok + failed === n) console.log(`connected ${ok} ${failed}`);
      return;
    }
    started++;
    const s = net.connect(port, "127.0.0.1");
    s.on("connect", () => {
      ok++;
      held.push(s);
      next();
    });
    s.on("error", () => {
      if (!held.includes(s)) {
        failed++;
        next();
      }
    });
  };
  for (let i = 0; i < Math.min(256, n); i++) next();
  setInterval(() => {}, 1 << 30);
} else {
  console.error("usage: hold.ts server <port> | client <port> <n>");
  process.exit(2);
}
