// Connections that must send something first (a PROXY header, a ClientHello), on every data path: who may send a
// PROXY header at all, and the caps on connections still sending theirs, apart from max_connections.
import net from "node:net";
import { describe, expect, it } from "vitest";
import {
  clientHello,
  connect,
  echoBackend,
  startSidecar,
  tcpConfig,
  useDataPath,
  waitFor,
} from "./helpers.ts";

/** Connects from `localAddress`, sends `bytes`, and resolves with the socket's fate: its reply, "end" or the error code. */
function fate(port: number, bytes: Buffer | string, localAddress = "127.0.0.1"): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: "127.0.0.1", localAddress, allowHalfOpen: true }, () => s.end(bytes));
    let got = "";
    s.on("data", (d) => {
      got += d.toString("latin1");
    });
    s.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    s.on("close", () => resolve(got ? `data:${got}` : "end"));
  });
}

describe.each(["native", "raw", "socket"])("preludes (%s data path)", (mode) => {
  useDataPath(mode);

  it("a peer outside proxy_protocol_from is refused before its header is read, whatever client it names", async () => {
    const b = await echoBackend();
    const { port, sidecar, connections } = await startSidecar(
      tcpConfig([b.address], {
        accept_proxy_protocol: true,
        proxy_protocol_from: ["10.0.0.0/8"],
        allow: ["10.0.0.0/8"],
      }),
    );
    // A direct client claiming to be an allowed address: believed before, it reached the backend.
    expect(await fate(port, "PROXY TCP4 10.9.9.9 10.0.0.1 5555 6379\r\nsneaky")).toBe("ECONNRESET");
    expect(b.accepted).toBe(0);
    expect(sidecar.listenerStats.get("l")!.refused.untrusted_proxy).toBe(1);
    await waitFor(() => connections().length === 1);
    expect(connections()[0]).toMatchObject({
      client: expect.stringMatching(/^127\.0\.0\.1:/),
      closed_by: "untrusted_proxy",
    });
  });

  it("caps connections still sending a ClientHello per source address and in total; a sent hello frees the place", async () => {
    const b = await echoBackend();
    const { port, sidecar } = await startSidecar(
      tcpConfig([b.address], { protocol: "tls", max_prelude_per_source: 2, max_prelude_connections: 3 }),
    );
    const slow = [await connect(port, "127.0.0.1"), await connect(port, "127.0.0.1")];
    for (const s of slow) s.write(clientHello("a.example.com").subarray(0, 3)); // a slowloris: never finishes
    await waitFor(() => sidecar.status().listeners[0]!.active === 2);
    const hello = clientHello("b.example.com");
    expect(await fate(port, hello, "127.0.0.1")).toBe("ECONNRESET"); // its address has two waiting already
    // Another address is still served at once, its hello passed on untouched…
    expect(await fate(port, hello, "127.0.0.2")).toBe(`data:${hello.toString("latin1")}`);
    // …until the total cap is reached.
    const held = net.connect({ port, host: "127.0.0.1", localAddress: "127.0.0.3" });
    held.on("error", () => {});
    await waitFor(() => sidecar.status().listeners[0]!.active === 3);
    expect(await fate(port, hello, "127.0.0.4")).toBe("ECONNRESET");
    held.destroy();
    await waitFor(() => sidecar.status().listeners[0]!.active === 2);
    expect(await fate(port, hello, "127.0.0.4")).toBe(`data:${hello.toString("latin1")}`);
    expect(sidecar.listenerStats.get("l")!.refused.prelude_limit).toBe(2);
    expect(sidecar.listenerStats.get("l")!.refused.max_connections).toBe(0);
  });
});
