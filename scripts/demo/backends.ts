// Demo backends for `npm start` (and handy in tests): HTTP servers that say who they are, TCP echo servers
// that prefix each reply with their name so `nc` shows which backend a connection reached.
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createTcpServer, type Server as TcpServer } from "node:net";

export function startHttpDemo(name: string, port: number, host = "127.0.0.1"): Promise<HttpServer> {
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.stringify(
        {
          backend: name,
          method: req.method,
          url: req.url,
          headers: req.headers,
          body_bytes: Buffer.concat(chunks).length,
        },
        null,
        2,
      );
      res.writeHead(200, { "content-type": "application/json", "x-backend": name });
      res.end(`${body}\n`);
    });
  });
  return listen(server, port, host);
}

export function startTcpEcho(name: string, port: number, host = "127.0.0.1"): Promise<TcpServer> {
  const server = createTcpServer((socket) => {
    socket.write(`hello from ${name}\n`);
    socket.on("data", (data) => socket.write(`${name}: ${data}`));
    socket.on("end", () => socket.end());
    socket.on("error", () => socket.destroy());
  });
  return listen(server, port, host);
}

function listen<T extends HttpServer | TcpServer>(server: T, port: number, host: string): Promise<T> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}
