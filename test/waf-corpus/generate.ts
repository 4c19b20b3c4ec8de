// The generated attack corpus: every family's base payloads (payloads.ts) crossed with its evasions
// (evasions.ts) and placed in each part of a request a value can arrive in: query, path, form, JSON at depth,
// multipart, cookie, and a header (Referer, or the header the family uses). Deterministic.
import { EVASIONS, random } from "./evasions.ts";
import { type Family, PAYLOADS, SCANNER_AGENTS, SESSION_NAMES, SESSION_VALUES } from "./payloads.ts";
import type { CorpusEntry } from "./types.ts";

export type Placement = (family: string, value: string, name: string) => CorpusEntry;

const BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/** A multipart/form-data body with one field per entry. */
export function multipart(
  fields: Record<string, string>,
  files: Record<string, [string, string]> = {},
): CorpusEntry["body"] {
  const b = "----corpus7MA4YWxkTrZu0gW";
  let text = "";
  for (const [k, v] of Object.entries(fields))
    text += `--${b}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`;
  for (const [k, [fn, v]] of Object.entries(files)) {
    text += `--${b}\r\nContent-Disposition: form-data; name="${k}"; filename="${fn}"\r\nContent-Type: text/plain\r\n\r\n${v}\r\n`;
  }
  return { text: `${text}--${b}--\r\n`, type: `multipart/form-data; boundary=${b}` };
}

/** A value three objects and an array deep, as API payloads nest them. */
const deep = (name: string, v: string) => ({
  data: { items: [{ meta: { [name]: v, kind: "note" } }] },
  page: 1,
});

export const PLACEMENTS: Record<string, Placement> = {
  query: (c, v, name) => ({ c, args: { [name]: v } }),
  path: (c, v) => ({ c, path: `/files/${encodeURIComponent(v)}` }),
  form: (c, v, name) => ({ c, method: "POST", form: { other: "1", [name]: v } }),
  json: (c, v, name) => ({ c, method: "POST", json: deep(name, v) }),
  multipart: (c, v, name) => ({ c, method: "POST", body: multipart({ title: "x", [name]: v }) }),
  cookie: (c, v) => ({ c, headers: { cookie: `theme=dark; pref=${encodeURIComponent(v)}` } }),
  referer: (c, v) => ({
    c,
    headers: {
      "user-agent": BROWSER_UA,
      referer: `https://shop.example.com/search?q=${encodeURIComponent(v)}`,
    },
  }),
  header: (c, v) => ({ c, headers: { "x-api-version": v } }),
};

/** Where each family's payloads go: the parts CRS inspects for it (the path only where a value can be a path). */
const WHERE: Record<Family, string[]> = {
  "942 sqli": ["query", "path", "form", "json", "multipart", "cookie", "referer"],
  "941 xss": ["query", "path", "form", "json", "multipart", "cookie", "referer"],
  "930 lfi": ["query", "path", "form", "json", "multipart", "cookie"],
  "931 rfi": ["query", "form", "json", "multipart"],
  "932 rce": ["query", "form", "json", "multipart", "cookie", "referer"],
  "933 php": ["query", "form", "json", "multipart", "cookie"],
  "934 nodejs": ["query", "form", "json", "multipart", "cookie"],
  "944 java": ["query", "path", "form", "json", "multipart", "cookie", "header"],
  "943 session": ["query", "form", "json", "multipart"],
  "913 scanner": [],
};
const NAMES: Record<Family, string[]> = {
  "942 sqli": ["id", "user", "sort", "q"],
  "941 xss": ["q", "name", "comment", "redirect"],
  "930 lfi": ["file", "page", "template", "path"],
  "931 rfi": ["page", "include", "url", "src"],
  "932 rce": ["host", "ip", "cmd", "target"],
  "933 php": ["code", "data", "input", "page"],
  "934 nodejs": ["code", "filter", "expr", "url"],
  "944 java": ["q", "name", "expr", "data"],
  "943 session": ["q", "msg", "next"],
  "913 scanner": [],
};

/** Prototype pollution arrives in names, not values: query keys and JSON keys. */
function pollution(): CorpusEntry[] {
  const c = "934 nodejs";
  const out: CorpusEntry[] = [];
  for (const key of [
    "__proto__[admin]",
    "constructor[prototype][admin]",
    "__proto__.isAdmin",
    "a[__proto__][b]",
    "constructor.prototype.x",
  ]) {
    out.push(
      { c, rawQuery: `${encodeURIComponent(key)}=1` },
      { c, rawQuery: `${key}=true` },
      { c, method: "POST", form: { [key]: "1" } },
    );
  }
  for (const text of [
    '{"__proto__":{"isAdmin":true}}',
    '{"user":{"__proto__":{"role":"admin"}}}',
    '{"constructor":{"prototype":{"polluted":1}}}',
    '{"a":[{"b":{"__proto__":{"x":1}}}]}',
  ]) {
    out.push({ c, method: "POST", body: { text, type: "application/json" } });
  }
  return out;
}

/** Session fixation: a session id parameter (943120) and values that plant a cookie (943100). */
function session(): CorpusEntry[] {
  const c = "943 session";
  const out: CorpusEntry[] = [];
  for (const n of SESSION_NAMES) {
    out.push({ c, args: { [n]: "0123456789abcdef" } }, { c, method: "POST", form: { [n]: "attacker" } });
    out.push({ c, rawQuery: `a=1&${encodeURIComponent(n)}=x` });
  }
  return out;
}

export function generateAttacks(): CorpusEntry[] {
  const rnd = random(15);
  const out: CorpusEntry[] = [];
  const seen = new Set<string>();
  const families = Object.keys(PAYLOADS) as Array<keyof typeof PAYLOADS>;
  const add = (family: Family, payloads: readonly string[]) => {
    for (const [pi, payload] of payloads.entries()) {
      for (const ev of EVASIONS[family]) {
        const value = ev.apply(payload, rnd);
        if (ev.name !== "plain" && value === payload) continue;
        WHERE[family].forEach((where, wi) => {
          const name = NAMES[family][(pi + wi) % NAMES[family].length]!;
          const e = PLACEMENTS[where]!(family, value, name);
          e.note = `${ev.name} in ${where}`;
          const key = JSON.stringify(e);
          if (!seen.has(key)) {
            seen.add(key);
            out.push(e);
          }
        });
      }
    }
  };
  for (const f of families) add(f, PAYLOADS[f]);
  add("943 session", SESSION_VALUES);
  out.push(...session(), ...pollution());
  for (const ua of SCANNER_AGENTS) {
    out.push(
      { c: "913 scanner", headers: { "user-agent": ua } },
      { c: "913 scanner", path: "/wp-login.php", headers: { "user-agent": ua, accept: "*/*" } },
    );
  }
  return out;
}
