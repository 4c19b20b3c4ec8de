import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import { describer } from "../../core/config/describe.ts";
import {
  ConfigError,
  checkConfig,
  formatDuration,
  parseConfig,
  parseDuration,
  parseHostPort,
  parseSize,
  renderProblem,
} from "../../core/config/index.ts";
import { generateJsonSchema } from "../../core/config/json-schema.ts";
import { configFromText } from "../../core/config/source.ts";

const http = (name: string, ...urls: string[]) => ({ name, backends: urls.map((url) => ({ url })) });
const tcp = (name: string, ...addresses: string[]) => ({
  name,
  backends: addresses.map((address) => ({ address })),
});
const problems = (raw: unknown) => checkConfig(raw).problems.map(renderProblem);

describe("durations and sizes", () => {
  it.each([
    ["250ms", 250],
    ["10s", 10_000],
    ["1.5s", 1500],
    ["5m", 300_000],
    ["1h", 3_600_000],
    ["2d", 172_800_000],
  ])("%s is %d ms", (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(["10", "ten s", "-1s", "1w", "", "1 h"])("%j is not a duration", (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );
  it("sizes use binary units", () => {
    expect(parseSize("64kb")).toBe(65536);
    expect(parseSize("1MB")).toBe(1048576);
    expect(parseSize("12")).toBeUndefined();
  });
  it("formats back to the shortest exact unit", () => {
    expect(formatDuration(3_600_000)).toBe("1h");
    expect(formatDuration(1500)).toBe("1500ms");
  });
  it("parses durations in the schema once, to milliseconds", () => {
    // listener/service fields with durations are added by later sections; the field type is shared
    expect(parseDuration("250ms")).toBe(250);
  });
});

describe("host:port", () => {
  it("parses IPv4, names and bracketed IPv6", () => {
    expect(parseHostPort("10.0.0.5:6379")).toEqual({ host: "10.0.0.5", port: 6379 });
    expect(parseHostPort("db.internal:5432")).toEqual({ host: "db.internal", port: 5432 });
    expect(parseHostPort("[::1]:5432")).toEqual({ host: "::1", port: 5432 });
  });
  it("rejects missing ports and ports out of range", () => {
    expect(parseHostPort("10.0.0.5")).toBeUndefined();
    expect(parseHostPort("10.0.0.5:70000")).toBeUndefined();
    expect(parseHostPort("::1:80")).toBeUndefined();
  });
});

describe("parseConfig", () => {
  const good = {
    services: [http("api", "http://10.0.0.1:8080", "http://10.0.0.2:8080"), tcp("redis", "127.0.0.1:6379")],
    routes: [{ name: "api", match: { host: "api.example.com", path: { prefix: "/v1" } }, service: "api" }],
    listeners: [{ name: "redis", listen: "0.0.0.0:6379", service: "redis" }],
  };

  it("returns a typed config with defaults filled in", () => {
    const config = parseConfig(good);
    expect(config.services[0]!.balance).toBe("round-robin");
    expect(config.services[0]!.backends[0]!.weight).toBe(1);
    expect(config.listeners[0]!.protocol).toBe("tcp");
    expect(config.routes[0]!.match[0]!.path).toEqual({ prefix: "/v1" });
  });

  it("freezes the result deeply", () => {
    const config = parseConfig(good);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.services[0]!.backends[0])).toBe(true);
    expect(() => {
      (config.routes as unknown as unknown[]).push({});
    }).toThrow();
  });

  it("accepts JSON text as well as an object", () => {
    expect(parseConfig(JSON.stringify(good)).services).toHaveLength(2);
  });

  it("throws a ConfigError that lists every problem with its path", () => {
    const bad = {
      services: [http("api", "http://a:1"), http("web", "http://b:1")],
      routes: [
        { name: "ok", service: "api" },
        { name: "typo", service: "ap1" },
        { name: "noslash", match: { path: { prefix: "v1" } }, service: "web" },
      ],
      listeners: [{ name: "l", listen: "nope", service: "api" }],
    };
    let error: unknown;
    try {
      parseConfig(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const err = error as ConfigError;
    expect(err.code).toBe("SY_CONFIG_INVALID");
    expect(err.problems.map(renderProblem)).toEqual([
      'listeners[0].listen: "nope" is not a host:port address; write it like "10.0.0.5:6379" or "[::1]:5432"',
      'listeners[0].service: service "api" has HTTP backends (url); a listener needs a service with TCP backends (address)',
      'routes[1].service: no service named "ap1" (services: api, web)',
      'routes[2].match.path.prefix: a path prefix starts with "/"',
    ]);
    expect(err.message).toContain("the Switchyard config has 4 problems");
  });

  it("rejects unknown keys and suggests the field meant", () => {
    const found = problems({
      services: [{ ...http("api", "http://a:1"), balanse: "round-robin" }],
      rutes: [],
    });
    expect(found).toHaveLength(2);
    expect(found[0]).toMatch(
      /^rutes: unknown field "rutes" \(did you mean "routes"\?\); allowed here: services, routes, /,
    );
    expect(found[1]).toMatch(
      /^services\[0\]\.balanse: unknown field "balanse" \(did you mean "balance"\?\); allowed here: name, backends, balance/,
    );
  });

  it("reports wrong types and enum values in plain words", () => {
    expect(
      problems({
        services: [{ name: "api", backends: [{ url: "http://a:1", weight: "2" }], balance: "fastest" }],
      }),
    ).toEqual([
      'services[0].backends[0].weight: expected a number, got string "2"',
      'services[0].balance: string "fastest" is not allowed; use one of: "round-robin", "weighted", "random", "least-connections", "least-request", "p2c", "maglev", "ring-hash"',
    ]);
  });

  it("quotes zod's English message for a check that has no message of its own", () => {
    expect(problems({ services: [{ name: "api", backends: [{ url: "http://a:1", weight: -1 }] }] })).toEqual([
      "services[0].backends[0].weight: Too small: expected number to be >=0",
    ]);
  });

  it("finds duplicate names in every section", () => {
    expect(
      problems({
        services: [http("api", "http://a:1"), http("api", "http://b:1"), tcp("db", "1.2.3.4:5")],
        routes: [
          { name: "r", service: "api" },
          { name: "r", service: "api" },
        ],
        listeners: [
          { name: "l", listen: "127.0.0.1:1", service: "db" },
          { name: "l", listen: "127.0.0.1:2", service: "db" },
        ],
      }),
    ).toEqual([
      'listeners[1].name: duplicate listener name "l" (first used by listeners[0])',
      'routes[1].name: duplicate route name "r" (first used by routes[0])',
      'services[1].name: duplicate service name "api" (first used by services[0])',
    ]);
  });

  it("checks that routes use HTTP services and listeners TCP services", () => {
    expect(
      problems({
        services: [http("web", "http://a:1"), tcp("db", "10.0.0.1:5432")],
        routes: [{ name: "r", service: "db" }],
        listeners: [{ name: "l", listen: "0.0.0.0:5432", service: "web" }],
      }),
    ).toEqual([
      'listeners[0].service: service "web" has HTTP backends (url); a listener needs a service with TCP backends (address)',
      'routes[0].service: service "db" has TCP backends (address); a route needs a service with HTTP backends (url)',
    ]);
  });

  it("rejects a service that mixes url and address backends, and a backend with neither", () => {
    expect(
      problems({
        services: [
          { name: "mixed", backends: [{ url: "http://a:1" }, { address: "a:2" }] },
          { name: "empty", backends: [{ weight: 2 }] },
        ],
      }),
    ).toEqual([
      'services[0].backends: mixes "url" and "address" backends; a service is either HTTP (all url) or TCP (all address)',
      'services[1].backends[0]: a backend needs exactly one of "url" (HTTP) or "address" (TCP host:port)',
    ]);
  });

  it("rejects two listeners on the same address, including a wildcard host", () => {
    expect(
      problems({
        services: [tcp("db", "10.0.0.1:5432")],
        listeners: [
          { name: "a", listen: "0.0.0.0:5432", service: "db" },
          { name: "b", listen: "127.0.0.1:5432", service: "db" },
          { name: "c", listen: "127.0.0.1:5433", service: "db" },
        ],
      }),
    ).toEqual([
      'listeners[1].listen: "127.0.0.1:5432" is already used by listeners[0]; two listeners cannot share an address',
    ]);
  });

  it("orders problems like the document, routes[2] before routes[10]", () => {
    const routes = Array.from({ length: 11 }, (_, i) => ({
      name: `r${i}`,
      service: i === 2 || i === 10 ? "x" : "api",
    }));
    const paths = checkConfig({ services: [http("api", "http://a:1")], routes }).problems.map((p) => p.path);
    expect(paths).toEqual(["routes[2].service", "routes[10].service"]);
  });

  it("explains a document that is not a table, or not JSON", () => {
    expect(problems([])).toEqual([
      "the config must be a table (object) with services, routes and listeners, got a list",
    ]);
    expect(problems("{nope")[0]).toMatch(/^the config is not valid JSON/);
  });

  it("checks a route's rewrite against its match even when a condition in the match is wrong", () => {
    // The bad value match leaves match untransformed (one block, not a list) when the route's own checks run.
    const route = { name: "r", service: "api", match: { cookies: { c: {} } } };
    const services = [http("api", "http://a:1")];
    expect(problems({ services, routes: [{ ...route, rewrite: { prefix: "/" } }] })).toEqual([
      'routes[0].match.cookies.c: a value match needs exactly one of "exact", "regex", "present" or "absent"',
      "routes[0].rewrite.prefix: replacing a prefix needs every match block of the route to have a path prefix",
    ]);
    expect(problems({ services, routes: [{ ...route, rewrite: { path: "/:id" } }] })[1]).toBe(
      'routes[0].rewrite.path: ":id" is not a parameter of the path template of every match block',
    );
  });
});

describe("config sources", () => {
  it("reads [vars.SWITCHYARD] from a wrangler.toml with a real TOML parser", () => {
    const raw = configFromText(
      `name = "x"\n[[vars.SWITCHYARD.services]]\nname = "api"\nbackends = [ { url = "http://a:1", weight = 2 } ]\n`,
      "wrangler.toml",
    );
    expect(parseConfig(raw).services[0]!.backends[0]!.weight).toBe(2);
  });
  it("names a missing table and broken TOML", () => {
    expect(() => configFromText('name = "x"\n', "wrangler.toml")).toThrow(/\[vars\.SWITCHYARD\]/);
    expect(() => configFromText("name = \n", "wrangler.toml")).toThrow(/not valid TOML/);
  });
});

describe("JSON Schema", () => {
  it("describes every field", () => {
    const missing: string[] = [];
    const walk = (node: unknown, path: string) => {
      if (!node || typeof node !== "object") return;
      const n = node as Record<string, unknown>;
      if (n.properties && typeof n.properties === "object") {
        for (const [key, child] of Object.entries(n.properties as Record<string, Record<string, unknown>>)) {
          const hasDescription =
            typeof child.description === "string" ||
            (child.anyOf as unknown[] | undefined)?.every(
              (c) => typeof (c as { description?: unknown }).description === "string",
            );
          if (!hasDescription) missing.push(`${path}.${key}`);
          walk(child, `${path}.${key}`);
        }
      }
      for (const k of ["items", "anyOf", "oneOf", "allOf", "additionalProperties"]) {
        const v = n[k];
        if (Array.isArray(v)) for (const c of v) walk(c, path);
        else walk(v, path);
      }
    };
    walk(generateJsonSchema(), "$");
    expect(missing).toEqual([]);
  });
  it("refuses a description of a field that does not exist, and two descriptions of one schema", () => {
    const d = describer(z.registry<z.core.GlobalMeta>());
    const table = z._default(z.strictObject({ a: z.string() }), { a: "x" });
    d.fields(table, { a: "The a." });
    expect(() => d.fields(table, { b: "The b." } as never)).toThrow(/"b", which is not a field/);
    expect(() => d(table._zod.def.innerType.shape.a, "Another a.")).toThrow(/described twice/);
  });
  it("forbids unknown keys", () => {
    const schema = generateJsonSchema() as { additionalProperties?: boolean };
    expect(schema.additionalProperties).toBe(false);
  });
});

describe("rate-limit expressions", () => {
  it("reports a bad key and a bad match with their paths and a caret under the spot", () => {
    const found = checkConfig({
      rate_limits: [
        { name: "a", key: ["ip.src", "http.nope"], limit: 1, period: "1s" },
        { name: "b", key: "ip.src", match: "ip.src eq", limit: 1, period: "1s" },
      ],
    }).problems.map(renderProblem);
    expect(found).toHaveLength(2);
    expect(found[0]).toMatch(
      /^rate_limits\[0\]\.key\[1\]: type error at column 1: unknown field http\.nope\n {2}http\.nope\n {2}\^$/,
    );
    expect(found[1]).toMatch(
      /^rate_limits\[1\]\.match: syntax error at column 10: .*\n {2}ip\.src eq\n {11}\^$/,
    );
  });
});
