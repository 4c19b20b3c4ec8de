// configFromText: a wrangler config's SWITCHYARD var (wrangler.toml, wrangler.json, wrangler.jsonc) or a JSON file →
// the raw document parseConfig takes.
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../core/config/errors.ts";
import { configFromText } from "../../core/config/source.ts";

describe("configFromText", () => {
  it("returns the [vars.SWITCHYARD] table of a wrangler.toml", () => {
    const toml = `name = "edge"\n[[vars.SWITCHYARD.services]]\nname = "redis"\nbackends = [{ address = "127.0.0.1:6379" }]\n`;
    expect(configFromText(toml, "wrangler.toml")).toEqual({
      services: [{ name: "redis", backends: [{ address: "127.0.0.1:6379" }] }],
    });
  });

  it("names the file and the missing table when there is no [vars.SWITCHYARD]", () => {
    expect(() => configFromText(`[vars]\nOTHER = "x"\n`, "/etc/wrangler.toml")).toThrow(
      /\/etc\/wrangler\.toml: .*has no \[vars\.SWITCHYARD\] table/s,
    );
  });

  it("reports TOML syntax errors with line and column as a ConfigError", () => {
    let err: unknown;
    try {
      configFromText("a = 1\nb = [\n", "bad.toml");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(String(err)).toMatch(/bad\.toml: .*not valid TOML \(line \d+, column \d+\)/s);
  });

  it("parses any other file name as JSON, and reports bad JSON", () => {
    expect(configFromText(`{"listeners": []}`, "sy.json")).toEqual({ listeners: [] });
    expect(() => configFromText("{", "sy.json")).toThrow(/sy\.json: .*not valid JSON/s);
  });

  const jsonc = `// wrangler.jsonc, as \`wrangler init\` writes it: comments and trailing commas
{
  "name": "edge",
  /* the Switchyard config */
  "vars": {
    "SWITCHYARD": {
      "services": [{ "name": "redis", "backends": [{ "address": "127.0.0.1:6379" }] },],
    },
  },
  "env": {
    "staging": { "vars": { "SWITCHYARD": { "services": [] } } },
    "bare": { "name": "edge-bare" },
  },
}
`;

  it("returns vars.SWITCHYARD of a wrangler.jsonc, comments and trailing commas included", () => {
    expect(configFromText(jsonc, "/srv/wrangler.jsonc")).toEqual({
      services: [{ name: "redis", backends: [{ address: "127.0.0.1:6379" }] }],
    });
  });

  it("with an environment, returns its own SWITCHYARD var, else the top-level one", () => {
    expect(configFromText(jsonc, "wrangler.jsonc", "staging")).toEqual({ services: [] });
    expect(configFromText(jsonc, "wrangler.jsonc", "bare")).toEqual(configFromText(jsonc, "wrangler.jsonc"));
  });

  it("reads wrangler.json the same way, and a JSON file with `vars` as a wrangler config whatever its name", () => {
    const json = JSON.stringify({ name: "edge", vars: { SWITCHYARD: { listeners: [] } } });
    expect(configFromText(json, "wrangler.json")).toEqual({ listeners: [] });
    expect(configFromText(json, "deploy/edge.json")).toEqual({ listeners: [] });
  });

  it("takes a SWITCHYARD var that holds JSON text", () => {
    const json = JSON.stringify({ vars: { SWITCHYARD: JSON.stringify({ listeners: [] }) } });
    expect(configFromText(json, "wrangler.json")).toEqual({ listeners: [] });
  });

  it("names the file and what is missing when a wrangler.json has no vars.SWITCHYARD", () => {
    expect(() => configFromText(`{ "name": "edge" }`, "wrangler.json")).toThrow(
      /wrangler\.json: .*has no "vars": \{ "SWITCHYARD"/s,
    );
  });

  it("reports JSON syntax errors with line and column", () => {
    expect(() =>
      configFromText(`{\n  "vars": {\n    "SWITCHYARD": { "listeners": [ }\n`, "wrangler.jsonc"),
    ).toThrow(/wrangler\.jsonc: .*not valid JSON \(line 3, column \d+\): ValueExpected/s);
  });
});
