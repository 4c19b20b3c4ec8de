// configFromText: wrangler.toml's [vars.SWITCHYARD] table or a JSON file → the raw document parseConfig takes.
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
});
