// biome-ignore-all lint/suspicious/noTemplateCurlyInString: shell and Log4Shell evasions are ${…} strings on purpose.
// Evasions: each turns a payload into the value an attacker would send to get the same effect past a filter.
// Values are what the application finally sees after it decodes once more (double encoding, %u) or after the
// interpreter reads it (quotes inside shell words, SQL comments, HTML entities in attributes).
import type { Family } from "./payloads.ts";

export type Evasion = { name: string; apply: (payload: string, rnd: () => number) => string };

/** A deterministic generator, so the corpus is the same on every run. */
export function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const plain: Evasion = { name: "plain", apply: (p) => p };
const double: Evasion = { name: "double-encoded", apply: (p) => encodeURIComponent(p) };
const percentU: Evasion = {
  name: "%u-encoded",
  apply: (p) => p.replace(/[<>'"();/\\ =.]/g, (c) => `%u${c.charCodeAt(0).toString(16).padStart(4, "0")}`),
};
const mixCase = (s: string, rnd: () => number) =>
  [...s].map((c) => (rnd() < 0.5 ? c.toUpperCase() : c.toLowerCase())).join("");
const randomCase: Evasion = { name: "case", apply: (p, rnd) => mixCase(p, rnd) };
/** Case only where the language ignores it: tag and attribute names, URI schemes (not the script itself). */
const htmlCase: Evasion = {
  name: "case",
  apply: (p, rnd) => p.replace(/<\w+|\bon\w+=|javascript:|style/gi, (m) => mixCase(m, rnd)),
};
/** PHP function names are case-insensitive; variables are not. */
const phpCase: Evasion = {
  name: "case",
  apply: (p, rnd) => p.replace(/\b[a-z_]+(?=\s*\()/g, (m) => mixCase(m, rnd)),
};
const ws = (name: string, to: string): Evasion => ({ name, apply: (p) => p.replace(/ /g, to) });

const SQL_WORDS = /\b(select|union|from|where|and|or|order|by|sleep|benchmark|drop|table|having|exists)\b/gi;
const sqlComments: Evasion = { name: "comments", apply: (p) => p.replace(/ /g, "/**/") };
const sqlVersioned: Evasion = {
  name: "versioned-comments",
  apply: (p) => p.replace(SQL_WORDS, "/*!50000$1*/"),
};
const sqlTabs: Evasion = {
  name: "whitespace",
  apply: (p, rnd) => p.replace(/ /g, () => ["\t", "\n", "\f", "  "][Math.floor(rnd() * 4)]!),
};

const xssSlash: Evasion = { name: "slash-separators", apply: (p) => p.replace(/<(\w+) /g, "<$1/") };
const xssNewlines: Evasion = { name: "newlines", apply: (p) => p.replace(/ /g, "\n") };
const xssEntities: Evasion = {
  name: "entities",
  apply: (p) =>
    p
      .replace(/javascript:/gi, "jav&#x61;script&colon;")
      .replace(/alert|confirm|prompt/g, (w) => `&#${w.charCodeAt(0)};${w.slice(1)}`),
};
const xssJsEscape: Evasion = {
  name: "js-escapes",
  apply: (p) =>
    p.replace(/alert|confirm|prompt/g, (w) => `\\u00${w.charCodeAt(0).toString(16)}${w.slice(1)}`),
};
const xssConcat: Evasion = {
  name: "concatenation",
  apply: (p) => p.replace(/(alert|confirm|prompt)\(7\)/g, "window['$1'.slice(0)](7)"),
};
const xssBacktick: Evasion = {
  name: "template-call",
  apply: (p) => p.replace(/(alert|confirm|prompt)\(7\)/g, "$1`7`"),
};

const lfiEncoded: Evasion = {
  name: "encoded-dots",
  apply: (p) => p.replace(/\.\.\//g, "%2e%2e%2f").replace(/\.\.\\/g, "%2e%2e%5c"),
};
const lfiOverlong: Evasion = { name: "overlong-utf8", apply: (p) => p.replace(/\.\.\//g, "%c0%ae%c0%ae/") };
const lfiBackslash: Evasion = { name: "backslashes", apply: (p) => p.replace(/\//g, "\\") };
const lfiDoubleSlash: Evasion = { name: "doubled-slashes", apply: (p) => p.replace(/\//g, "//") };

const SHELL_WORD =
  /\b(id|cat|whoami|uname|wget|curl|nc|ls|ping|sleep|bash|python|perl|chmod|net|ipconfig|type|powershell|certutil|tasklist)\b/g;
const shQuotes: Evasion = {
  name: "quotes-in-words",
  apply: (p) =>
    p.replace(SHELL_WORD, (w) =>
      w.length > 2 ? `${w[0]}'${w.slice(1, -1)}'${w.slice(-1)}` : `${w[0]}""${w.slice(1)}`,
    ),
};
const shBackslash: Evasion = {
  name: "backslashes",
  apply: (p) => p.replace(SHELL_WORD, (w) => [...w].join("\\")),
};
const shIfs: Evasion = { name: "$IFS", apply: (p) => p.replace(/(\w) (\S)/g, "$1${IFS}$2") };
const shEmptyVar: Evasion = {
  name: "empty-expansion",
  apply: (p) => p.replace(SHELL_WORD, (w) => `${w[0]}$@${w.slice(1)}`),
};
/** cmd.exe drops carets; only Windows commands are spelled this way. */
const shCaret: Evasion = {
  name: "carets",
  apply: (p) =>
    p.replace(/\b(net|ipconfig|type|powershell|certutil|tasklist|whoami)\b/g, (w) => [...w].join("^")),
};
const shGlob: Evasion = {
  name: "globbing",
  apply: (p) => p.replace(/\/bin\/(\w)\w*/g, "/???/$1??").replace(/\/etc\/passwd/g, "/e??/p?ss??"),
};
const shTabs: Evasion = { name: "tabs", apply: (p) => p.replace(/ /g, "\t") };

const phpSpace: Evasion = { name: "space-before-call", apply: (p) => p.replace(/(\w)\(/g, "$1 (") };
const phpComment: Evasion = { name: "comments", apply: (p) => p.replace(/(\w)\(/g, "$1/**/(") };

const jndiCase: Evasion = {
  name: "lookup-case",
  apply: (p) => p.replace(/jndi/g, "jNdI").replace(/ldap/g, "LdAp"),
};
const jndiNested: Evasion = {
  name: "nested-lookup",
  apply: (p) => p.replace(/\$\{jndi:/g, "${${lower:J}ndi:"),
};

const quoteSwap: Evasion = { name: "quote-swap", apply: (p) => p.replace(/'/g, '"') };

/** The evasions each family is crossed with (plain first). */
export const EVASIONS: Record<Family, Evasion[]> = {
  "942 sqli": [plain, double, percentU, randomCase, sqlComments, sqlVersioned, sqlTabs],
  "941 xss": [
    plain,
    double,
    percentU,
    htmlCase,
    xssSlash,
    xssNewlines,
    xssEntities,
    xssJsEscape,
    xssConcat,
    xssBacktick,
  ],
  "930 lfi": [plain, double, lfiEncoded, lfiOverlong, lfiBackslash, lfiDoubleSlash],
  "931 rfi": [plain, double, percentU, randomCase],
  "932 rce": [plain, double, percentU, shQuotes, shBackslash, shIfs, shEmptyVar, shCaret, shGlob, shTabs],
  "933 php": [plain, double, percentU, phpCase, phpSpace, phpComment, quoteSwap],
  "934 nodejs": [plain, double, percentU, quoteSwap, ws("whitespace", "  ")],
  "944 java": [plain, double, percentU, jndiCase, jndiNested, quoteSwap],
  "943 session": [plain, double, percentU],
  "913 scanner": [plain],
};
