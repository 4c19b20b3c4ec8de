// One active health probe against one backend: a TCP connect, a send/expect exchange, or an HTTP request (method,
// expected statuses and body text as the worker's checks have them).
// Resolves true (up) or false (down) within the timeout; never throws.
import net from "node:net";
import { type HealthCheck, healthCheckKind } from "../../core/config/schema/health.ts";
import { statusIsUp } from "../../core/health/http-check.ts";

export function probe(host: string, port: number, check: HealthCheck): Promise<boolean> {
  const kind = healthCheckKind(check);
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: check.port ?? port, noDelay: true });
    let received = "";
    let settled = false;
    const finish = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), check.timeout);
    socket.on("error", () => finish(false));
    socket.on("connect", () => {
      if (kind === "tcp") return finish(true);
      if (kind === "http") {
        const hostHeader = host.includes(":") ? `[${host}]` : host;
        socket.write(
          `${check.method ?? "GET"} ${check.path} HTTP/1.1\r\nHost: ${hostHeader}:${check.port ?? port}\r\nUser-Agent: switchyard-l4-health\r\nConnection: close\r\n\r\n`,
        );
      } else if (check.send !== undefined) socket.write(check.send);
      if (kind === "send-expect" && check.expect === undefined) finish(true);
    });
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      received += chunk;
      if (kind === "send-expect") {
        if (received.includes(check.expect!)) finish(true);
        else if (received.length > 65536) finish(false);
        return;
      }
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(received);
      if (m) {
        const up = statusIsUp(Number(m[1]), check.status);
        // `body`: the text must be in the response body (read until it shows up, the end, or 64 KiB).
        if (!up || check.body === undefined) return finish(up);
        const start = received.indexOf("\r\n\r\n");
        if (start >= 0 && received.indexOf(check.body, start + 4) >= 0) finish(true);
        else if (received.length > 65536) finish(false);
      } else if (received.length > 1024 || (received.length >= 12 && !received.startsWith("HTTP/")))
        finish(false);
    });
    socket.on("end", () => finish(false));
  });
}
