// The managed engine's clean-value memo (two generations, CLEAN_CACHE_SIZE entries): values repeated on every
// request stay remembered however many new ones pass through, a value that matched is never remembered, and a
// part whose values rarely repeat is only sampled until they do.
import { describe, expect, it } from "vitest";
import { CLEAN_CACHE_SIZE } from "../../core/waf/clean-memo.ts";
import { ManagedEngine } from "../../core/waf/engine.ts";
import { collectTargets, type InspectInput } from "../../core/waf/inspect.ts";
import { managedSettings } from "../waf-corpus/settings.ts";

const settings = managedSettings();
const UA = "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0";
const COOKIE = "session=3f2a9c0d81e4b7a6";
const request = (query: string): InspectInput => ({
  method: "GET",
  path: "/search",
  query,
  headers: new Headers({ "user-agent": UA, cookie: COOKIE }),
});
// A form's values are inspected after the headers, so they can push the User-Agent out after its lookup.
const post = (form: string): InspectInput => ({
  ...request(""),
  method: "POST",
  body: { text: form, contentType: "application/x-www-form-urlencoded", truncated: false },
});

describe("clean-value memo", () => {
  it("keeps values repeated on every request while over CLEAN_CACHE_SIZE new values pass through", () => {
    const e = new ManagedEngine(settings);
    const perRequest = 100;
    const requests = Math.ceil((CLEAN_CACHE_SIZE * 1.5) / perRequest);
    for (let r = 0; r < requests; r++) {
      // Each value comes in two requests in a row, so half the lookups find theirs and the part is looked up
      // in full (a part whose values never repeat is only sampled: see below).
      const pairs = Array.from(
        { length: perRequest },
        (_, i) => `f${i}=item-${r}-${i}&g${i}=item-${r - 1}-${i}`,
      );
      expect(e.inspect(collectTargets(post(pairs.join("&")))).score).toBe(0);
      // Without the move from the old generation to the young one, the User-Agent would drop out here about
      // every 41 requests (and be checked again on the next). knownClean does not refresh an entry itself.
      expect(e.knownClean(UA, "ua")).toBe(true);
      expect(e.knownClean("3f2a9c0d81e4b7a6", "cookies")).toBe(true);
      expect(e.knownClean(`item-${r}-${perRequest - 1}`, "values")).toBe(true);
      expect(e.cleanSize).toBeLessThanOrEqual(CLEAN_CACHE_SIZE);
    }
    // The new values really did push older ones out: the first request's are gone.
    expect(e.knownClean("item-0-0", "values")).toBe(false);
  });

  it("blocks an attack repeated 10,000 times among benign values, and never remembers it", () => {
    const e = new ManagedEngine(settings);
    // Two the single-pass decoder handles, one it leaves to the general path (double-encoded), one plain.
    const attacks = [
      ["%3Cscript%3Ealert(1)%3C%2Fscript%3E", "941100"],
      ["1%27%20or%20%271%27%3D%271", "942100"],
      ["%253Cscript%253Ealert(1)%253C%252Fscript%253E", "941100"],
      ["../../etc/passwd", "930110"],
    ] as const;
    const missed: number[] = [];
    for (let r = 0; r < 10_000; r++) {
      const [attack, id] = attacks[r % attacks.length]!;
      const { score, matches } = e.inspect(
        // The benign values come back (as a site's own query values do), so the memo is consulted throughout.
        collectTargets(request(`q=note-${r % 64}&x=${attack}&p=${(r % 50) * 7}-page`)),
      );
      if (score < settings.threshold || !matches.some((m) => m.id === id)) missed.push(r);
    }
    expect(missed).toEqual([]);
    for (const [attack] of attacks) expect(e.knownClean(attack, "values")).toBe(false);
    // The benign values around them were remembered (the memo was in use, not bypassed).
    expect(e.memoSampled("values")).toBe(false);
    expect(e.knownClean(`note-${9999 % 64}`, "values")).toBe(true);
  });

  it("only samples a part whose values rarely repeat, and looks them all up again once they do", () => {
    const e = new ManagedEngine(settings);
    const form = (tag: string) => Array.from({ length: 100 }, (_, i) => `f${i}=${tag}-${i}`).join("&");
    // Form posts of their own text: every value is new, while the names are the same each time.
    for (let r = 0; r < 20; r++) expect(e.inspect(collectTargets(post(form(`post${r}`)))).score).toBe(0);
    expect(e.memoSampled("values")).toBe(true);
    expect(e.memoSampled("names")).toBe(false);
    // Only the sample (one value in eight) was remembered: the rest were checked and let go.
    const kept = Array.from({ length: 100 }, (_, i) => e.knownClean(`post19-${i}`, "values")).filter(Boolean);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(30);
    // An attack among them is checked like any value, and blocked.
    const attack = `${form("post20")}&q=${encodeURIComponent("1' or '1'='1")}`;
    expect(e.inspect(collectTargets(post(attack))).score).toBeGreaterThanOrEqual(settings.threshold);
    // The same form again and again: the sample finds its values, and the part is looked up in full again.
    let r = 0;
    for (; r < 200 && e.memoSampled("values"); r++) e.inspect(collectTargets(post(form("same"))));
    expect(e.memoSampled("values")).toBe(false);
    e.inspect(collectTargets(post(form("same"))));
    for (let i = 0; i < 100; i++) expect(e.knownClean(`same-${i}`, "values")).toBe(true);
  });

  it("does not remember a value an argument check read, as where it is decides what those checks find", () => {
    const e = new ManagedEngine(managedSettings({ paranoia: 2 }));
    const note = encodeURIComponent("first line\r\nsecond line");
    const ids = (i: InspectInput) => e.inspect(collectTargets(i)).matches.map((m) => m.id);
    // A line break in a body value is a textarea's; in a query value it is 921810 (paranoia 2).
    expect(ids(post(`note=${note}`))).not.toContain("921810");
    expect(e.knownClean(note, "values")).toBe(false);
    expect(ids(request(`note=${note}`))).toContain("921810");
  });

  it("runs the argument checks on values decoded from JSON escapes", () => {
    const e = new ManagedEngine(settings);
    // The body's text has the two characters \r, not a CR: only the parsed value shows the split.
    const body = JSON.stringify({ msg: "x\r\nSet-Cookie: session=attacker" });
    const json: InspectInput = {
      ...request(""),
      method: "POST",
      body: { text: body, contentType: "application/json", truncated: false },
    };
    expect(e.inspect(collectTargets(json)).matches.map((m) => m.id)).toContain("921802");
  });

  it("remembers a value as clean only in the parts it was checked in", () => {
    const e = new ManagedEngine(settings);
    const xss = "<script>alert(1)</script>";
    // No rule on other headers looks for tags, so there it is clean; as an argument it is an attack.
    const header: InspectInput = {
      method: "GET",
      path: "/",
      query: "",
      headers: new Headers({ "x-note": xss }),
    };
    expect(e.inspect(collectTargets(header)).score).toBe(0);
    expect(e.knownClean(xss, "headers")).toBe(true);
    expect(e.inspect(collectTargets({ ...header, query: `q=${xss}` })).score).toBeGreaterThanOrEqual(5);
    expect(e.knownClean(xss, "values")).toBe(false);
    expect(e.knownClean(xss, "headers")).toBe(true);

    // And the other way round: a scanner's name is a harmless argument but a scanner's User-Agent.
    const scanner = "sqlmap/1.0";
    const arg: InspectInput = { method: "GET", path: "/", query: `q=${scanner}`, headers: new Headers() };
    expect(e.inspect(collectTargets(arg)).score).toBe(0);
    expect(e.knownClean(scanner, "values")).toBe(true);
    const asUa = { ...arg, headers: new Headers({ "user-agent": scanner }) };
    expect(e.inspect(collectTargets(asUa)).score).toBeGreaterThanOrEqual(5);
    expect(e.knownClean(scanner, "ua")).toBe(false);
  });
});
