// TLS passthrough: the ClientHello parser (on real ClientHellos from Node's TLS client), SNI matching, and
// openssl s_client through a tls listener reaching the backend its server name selects, encrypted end to end,
// on every data path (the native engine peeks at the ClientHello; the stream paths read it and send it on).
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import tls from "node:tls";
import { beforeAll, describe, expect, it } from "vitest";
import { parseClientHello, SniTable } from "../../l4-sidecar/src/sni.ts";
import { backend, onCleanup, ROOT, sleep, startSidecar, useDataPath, waitFor } from "./helpers.ts";

/** The first bytes a real TLS client sends (its ClientHello), captured on a plain TCP server. */
async function captureHello(servername?: string): Promise<Buffer> {
  const server = net.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const got = new Promise<Buffer>((resolve) =>
    server.once("connection", (s) => {
      s.once("data", (d: Buffer) => {
        resolve(d);
        s.destroy();
      });
    }),
  );
  const c = tls.connect({
    port: (server.address() as net.AddressInfo).port,
    host: "127.0.0.1",
    servername,
    rejectUnauthorized: false,
  });
  c.on("error", () => {});
  const hello = await got;
  c.destroy();
  server.close();
  return hello;
}

describe("ClientHello parsing", () => {
  it("finds the server name in a real ClientHello, also when it arrives in pieces", async () => {
    const hello = await captureHello("Db.Example.COM");
    expect(parseClientHello(hello)).toEqual({ status: "done", value: { serverName: "db.example.com" } });
    expect(parseClientHello(hello.subarray(0, 3))).toEqual({ status: "need-more" });
    expect(parseClientHello(hello.subarray(0, hello.length - 1))).toEqual({ status: "need-more" });
  });

  it("reports no name when the client sends none, and refuses what is not TLS", async () => {
    const noName = await captureHello(undefined);
    expect(parseClientHello(noName)).toEqual({ status: "done", value: {} });
    expect(parseClientHello(Buffer.from("GET / HTTP/1.1\r\n\r\n")).status).toBe("invalid");
    expect(parseClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0x02, 0, 0, 1, 0])).status).toBe(
      "invalid",
    );
  });

  it("matches exact names first, then the longest wildcard; a wildcard never matches its apex", () => {
    const t = new SniTable([
      ["*.example.com", "wild"],
      ["*.db.example.com", "db-wild"],
      ["db.example.com", "db"],
    ]);
    expect(t.match("db.example.com")).toBe("db");
    expect(t.match("eu.db.example.com")).toBe("db-wild");
    expect(t.match("www.example.com")).toBe("wild");
    expect(t.match("a.b.example.com")).toBe("wild");
    expect(t.match("example.com")).toBeUndefined();
    expect(t.match(undefined)).toBeUndefined();
  });
});

describe.each(["native", "raw", "socket"])("tls listener (SNI passthrough), %s data path", (mode) => {
  let key = "";
  let cert = "";
  useDataPath(mode);
  beforeAll(() => {
    const dir = mkdtempSync(path.join(tmpdir(), "sy-tls-"));
    try {
      execFileSync("sh", ["-c", "command -v openssl"], { stdio: "ignore" });
    } catch {
      execFileSync("bash", [path.join(ROOT, "scripts/ensure-debian-tools.sh")], { stdio: "inherit" });
    }
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        `${dir}/key.pem`,
        "-out",
        `${dir}/cert.pem`,
        "-days",
        "1",
        "-subj",
        "/CN=switchyard-test",
      ],
      { stdio: "ignore" },
    );
    key = readFileSync(`${dir}/key.pem`, "utf8");
    cert = readFileSync(`${dir}/cert.pem`, "utf8");
  }, 300_000);

  /** A TLS backend that greets each client with its name and the server name the client asked for. */
  async function tlsBackend(name: string) {
    const server = tls.createServer({ key, cert }, (s) => {
      s.on("error", () => {});
      s.end(`${name} saw ${(s as tls.TLSSocket & { servername?: string }).servername || "no name"}\n`);
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    onCleanup(() => new Promise((r) => server.close(r)));
    return `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  }

  function sClient(port: number, servername?: string): Promise<string> {
    return new Promise((resolve) => {
      const args = ["s_client", "-connect", `127.0.0.1:${port}`, "-quiet", "-ign_eof"];
      if (servername) args.push("-servername", servername);
      else args.push("-noservername");
      const p = spawn("openssl", args, { stdio: ["pipe", "pipe", "ignore"] });
      let out = "";
      p.stdout.on("data", (d) => {
        out += d;
      });
      p.on("close", () => resolve(out.trim()));
      p.stdin.on("error", () => {});
      p.stdin.end();
    });
  }

  it("routes by server name, falls back to the listener's service, and closes non-TLS clients", async () => {
    const [a, b, c] = [await tlsBackend("A"), await tlsBackend("B"), await tlsBackend("C")];
    const { port, connections } = await startSidecar({
      services: [
        { name: "sa", backends: [{ address: a }] },
        { name: "sb", backends: [{ address: b }] },
        { name: "sc", backends: [{ address: c }] },
      ],
      listeners: [
        {
          name: "l",
          listen: "127.0.0.1:0",
          protocol: "tls",
          service: "sc",
          sni: { "db.example.com": "sa", "*.example.org": "sb" },
        },
      ],
    });
    expect(await sClient(port, "db.example.com")).toBe("A saw db.example.com");
    expect(await sClient(port, "shop.eu.example.org")).toBe("B saw shop.eu.example.org");
    expect(await sClient(port, "other.example.net")).toBe("C saw other.example.net");
    expect(await sClient(port)).toBe("C saw no name");

    const plain = net.connect(port, "127.0.0.1");
    plain.on("error", () => {});
    plain.end("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await once(plain, "close");
    await waitFor(() => connections().length === 5);
    expect(connections().map((l) => [l.sni, l.service, l.closed_by ?? ""])).toEqual([
      ["db.example.com", "sa", expect.any(String)],
      ["shop.eu.example.org", "sb", expect.any(String)],
      ["other.example.net", "sc", expect.any(String)],
      [undefined, "sc", expect.any(String)],
      [undefined, undefined, "not-tls"],
    ]);
  });

  it("reads a PROXY header, then a ClientHello that arrives in pieces: the service it names gets the hello only", async () => {
    const hello = await captureHello("db.example.com");
    const got = { a: Buffer.alloc(0), c: Buffer.alloc(0) };
    const recorder = (k: "a" | "c") =>
      backend((s) => {
        s.on("data", (d: Buffer) => {
          got[k] = Buffer.concat([got[k], d]);
          if (got[k].length >= hello.length) s.end();
        });
      });
    const [a, c] = [await recorder("a"), await recorder("c")];
    const { port, connections, sidecar } = await startSidecar({
      services: [
        { name: "sa", backends: [{ address: a.address }] },
        { name: "sc", backends: [{ address: c.address }] },
      ],
      listeners: [
        {
          name: "l",
          listen: "127.0.0.1:0",
          protocol: "tls",
          accept_proxy_protocol: true,
          proxy_protocol_from: ["127.0.0.1"],
          service: "sc",
          sni: { "db.example.com": "sa" },
        },
      ],
    });
    expect(sidecar.status().listeners[0]).toMatchObject({ data_path: mode });
    const client = net.connect(port, "127.0.0.1");
    client.on("error", () => {});
    await once(client, "connect");
    client.write(
      Buffer.concat([Buffer.from("PROXY TCP4 192.0.2.7 10.0.0.1 40000 443\r\n"), hello.subarray(0, 9)]),
    );
    await sleep(50);
    client.write(hello.subarray(9, 60));
    await sleep(50);
    client.end(hello.subarray(60));
    await once(client, "close");
    await waitFor(() => connections().length === 1, 3000, "log line");
    expect(got.a.equals(hello)).toBe(true);
    expect(got.c.length).toBe(0);
    expect(connections()[0]).toMatchObject({
      client: "192.0.2.7:40000",
      sni: "db.example.com",
      service: "sa",
    });
  });
});
