// The per-connection log line is serialized by hand (l4-sidecar/src/log.ts): it must be the line pino writes.
import { describe, expect, it, vi } from "vitest";
import { type ConnectionLine, createLogger, logConnection, quote } from "../../l4-sidecar/src/log.ts";

function capture(level = "info") {
  const lines: string[] = [];
  const previous = process.env.SWITCHYARD_LOG_LEVEL;
  process.env.SWITCHYARD_LOG_LEVEL = level;
  const log = createLogger({ write: (s: string) => void lines.push(s) });
  if (previous === undefined) delete process.env.SWITCHYARD_LOG_LEVEL;
  else process.env.SWITCHYARD_LOG_LEVEL = previous;
  return { log, lines };
}

const withoutTime = (line: string) => line.replace(/"time":"[^"]*"/, '"time":"T"');

const full: ConnectionLine = {
  listener: "redis",
  client: "203.0.113.7:51234",
  via: "10.0.0.2:40000",
  sni: 'we"ird\\name\u2028ü',
  service: "cache",
  attempts: 2,
  connect_failures: ["10.0.0.9:6379 SY_CONNECT_REFUSED"],
  backend: "10.0.0.8:6379",
  bytes_in: 1234,
  bytes_out: 0,
  closed_by: "backend-reset",
  error: "ECONNRESET",
  duration_ms: 17,
};

describe("connection log line", () => {
  it("is byte-for-byte the line pino writes for the same fields (every field, escaping included)", () => {
    for (const [level, entry] of [
      ["info", full],
      ["warn", { listener: "l", client: "[::1]:5", closed_by: "denied", duration_ms: 0 }],
    ] as const) {
      const a = capture();
      a.log[level]({ ...entry }, "connection");
      const b = capture();
      logConnection(b.log, level, entry);
      expect(b.lines).toHaveLength(1);
      expect(withoutTime(b.lines[0]!)).toBe(withoutTime(a.lines[0]!));
      expect(JSON.parse(b.lines[0]!)).toMatchObject({ ...entry, level, msg: "connection" });
    }
  });

  it("names each line's own listener, service, backend and close reason when they change from line to line", () => {
    const { log, lines } = capture();
    const entries: ConnectionLine[] = [
      { ...full, listener: "a", service: "s1", backend: "10.0.0.1:1", closed_by: "client" },
      { ...full, listener: "b", service: "s2", backend: "10.0.0.2:2", closed_by: "backend" },
      { ...full, listener: "a", service: "s1", backend: "10.0.0.1:1", closed_by: "client" },
      { ...full, listener: 'q"uote', service: "s1", backend: "10.0.0.2:2", closed_by: "idle-timeout" },
    ];
    for (const e of entries) logConnection(log, "info", e);
    expect(lines.map((l) => JSON.parse(l))).toEqual(entries.map((e) => expect.objectContaining(e)));
  });

  it("writes nothing below the configured level", () => {
    const { log, lines } = capture("warn");
    logConnection(log, "info", full);
    expect(lines).toEqual([]);
    logConnection(log, "warn", full);
    expect(lines).toHaveLength(1);
  });
});

describe("quote", () => {
  it("is JSON.stringify for every string: plain ASCII, the characters JSON escapes, and beyond ASCII", () => {
    const samples = [
      "",
      "redis",
      "10.0.0.8:6379",
      "[::1]:5",
      "a b~",
      'q"',
      "b\\s",
      "\u0000",
      "\u001f",
      "\u007f",
      "\u0080",
      "é",
      "\u2028",
      "\ud800",
      "😀",
      "tab\tnl\n",
    ];
    for (const s of samples) expect(quote(s)).toBe(JSON.stringify(s));
  });
});

describe("the time field", () => {
  it("is the ISO time of the moment the line is written, as pino's isoTime gives it, across seconds and back", () => {
    const base = Date.UTC(2026, 11, 3, 17, 49, 59);
    const moments = [0, 1, 7, 45, 100, 999, 1000, 1001, 61_000, 999, -1, -1000, 86_400_000 * 40 + 5];
    for (const offset of moments) {
      const now = base + offset;
      vi.spyOn(Date, "now").mockReturnValue(now);
      const { log, lines } = capture();
      logConnection(log, "info", { listener: "l", client: "192.0.2.1:1" });
      vi.restoreAllMocks();
      expect(JSON.parse(lines[0]!).time).toBe(new Date(now).toISOString());
    }
  });
});
