// Every TOML and JSON config snippet in README.md, CONTRIBUTING.md and docs/*.md validates with checkConfig, so a
// doc cannot drift from the schema. How a snippet is read, by marks in its fence's info string (```toml fragment)
// or in an HTML comment on the line before it (<!-- snippet: fragment -->):
//   (none)      a whole config: a wrangler config (its vars.SWITCHYARD and every env's) or a Switchyard document
//   fragment    part of one: routes and listeners whose services are not shown get stand-in services
//   route       (with fragment) the keys of one route, e.g. `match = …`; a route without an action gets one, and
//               one without a match passes if some stand-in match (none, a path prefix, a path template) makes it whole
//   service     (with fragment) the keys of one service, e.g. `sticky = …`
//   per-line    each line is a snippet of its own (a list of alternatives for the same key)
//   skip        not a Switchyard config (an API response, a wrangler-only block); the reason goes after the mark
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderProblem } from "../../core/config/errors.ts";
import { checkConfig } from "../../core/config/parse.ts";
import { envBlock, isWranglerConfig, parseDocument, switchyardVar } from "../../core/config/source.ts";

const root = join(import.meta.dirname, "../..");
const FILES = [
  "README.md",
  "CONTRIBUTING.md",
  ...readdirSync(join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];
const LANGS = new Set(["toml", "json", "jsonc"]);

interface Snippet {
  file: string;
  line: number;
  lang: string;
  marks: string[];
  text: string;
}

/** The fenced TOML/JSON blocks of a Markdown text, with their marks. */
function snippets(file: string, markdown: string): Snippet[] {
  const lines = markdown.split("\n");
  const found: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, lang = "", info = ""] = open;
    const end = lines.findIndex((l, j) => j > i && l.trim() === fence);
    const close = end === -1 ? lines.length : end;
    if (LANGS.has(lang.toLowerCase())) {
      let before = i - 1;
      while (before >= 0 && lines[before]!.trim() === "") before--;
      const comment = /^\s*<!--\s*snippet:\s*(.*?)\s*-->\s*$/.exec(lines[before] ?? "");
      const marks = `${info} ${comment?.[1] ?? ""}`.split(/[\s,]+/).filter(Boolean);
      const text = lines
        .slice(i + 1, close)
        .map((l) => (l.startsWith(indent!) ? l.slice(indent!.length) : l))
        .join("\n");
      found.push({ file, line: i + 1, lang: lang.toLowerCase(), marks, text });
    }
    i = close;
  }
  return found;
}

type Doc = Record<string, unknown>;
// Stand-in backends are addressed by name, as production ones are (rewrite.host refuses IP-addressed ones).
const STAND_IN_URL = "http://backend.invalid:8080";
const STAND_IN_ADDRESS = "backend.invalid:9000";
const isObject = (v: unknown): v is Doc => v !== null && typeof v === "object" && !Array.isArray(v);

const ACTIONS = ["service", "split", "redirect", "respond"];
const STAND_IN_MATCHES = [
  {},
  { match: { path: { prefix: "/snippet" } } },
  { match: { path: { template: "/snippet/:id" } } },
];

/**
 * The Switchyard documents in a snippet, each with the alternatives that may make it whole: a wrangler config's
 * SWITCHYARD vars (top level and per env), or the snippet itself.
 */
function documents(s: Snippet): { where: string; docs: unknown[] }[] {
  const parsed = parseDocument(s.text, s.lang === "toml" ? "snippet.toml" : "snippet.jsonc");
  if (s.marks.includes("route") && isObject(parsed)) {
    const action = ACTIONS.some((k) => k in parsed) ? {} : { service: "snippet-service" };
    const matches = "match" in parsed ? [{}] : STAND_IN_MATCHES;
    return [
      {
        where: "route",
        docs: matches.map((m) => ({ routes: [{ name: "snippet", ...action, ...m, ...parsed }] })),
      },
    ];
  }
  if (s.marks.includes("service") && isObject(parsed)) {
    const service = { name: "snippet", backends: [{ url: STAND_IN_URL }], ...parsed };
    return [{ where: "service", docs: [{ services: [service] }] }];
  }
  if (!isWranglerConfig(parsed, s.lang === "toml" ? "snippet.toml" : "snippet.jsonc")) {
    return [{ where: "", docs: [parsed] }];
  }
  const found: { where: string; docs: unknown[] }[] = [];
  const top = switchyardVar(parsed);
  if (top !== undefined) found.push({ where: "vars.SWITCHYARD", docs: [top] });
  for (const env of Object.keys(isObject(parsed.env) ? parsed.env : {})) {
    const v = switchyardVar(envBlock(parsed, env));
    if (v !== undefined) found.push({ where: `env.${env}.vars.SWITCHYARD`, docs: [v] });
  }
  return found;
}

/** A fragment made whole: a stand-in service for every service its routes and listeners name but do not define. */
function completed(doc: unknown): unknown {
  if (!isObject(doc)) return doc;
  const services = [...((doc.services as Doc[] | undefined) ?? [])];
  const defined = new Set(services.map((s) => s.name));
  const need = (name: unknown, backend: Doc) => {
    if (typeof name === "string" && !defined.has(name)) {
      defined.add(name);
      services.push({ name, backends: [backend] });
    }
  };
  for (const r of (doc.routes as Doc[] | undefined) ?? []) {
    need(r.service, { url: STAND_IN_URL });
    for (const part of Array.isArray(r.split) ? (r.split as Doc[]) : [])
      need(part.service, { url: STAND_IN_URL });
  }
  for (const l of (doc.listeners as Doc[] | undefined) ?? []) {
    need(l.service, { address: STAND_IN_ADDRESS });
    for (const target of Object.values(isObject(l.sni) ? l.sni : {}))
      need(target, { address: STAND_IN_ADDRESS });
  }
  return { ...doc, services };
}

/** A per-line snippet as one snippet per line that says something (not blank, not only a comment). */
function split(s: Snippet): Snippet[] {
  if (!s.marks.includes("per-line")) return [s];
  return s.text
    .split("\n")
    .flatMap((text, i) =>
      /^\s*(#|\/\/|$)/.test(text)
        ? []
        : [{ ...s, line: s.line + 1 + i, text, marks: s.marks.filter((m) => m !== "per-line") }],
    );
}

/** Problems of one snippet, as lines; none when it validates. */
function check(s: Snippet): string[] {
  let found: { where: string; docs: unknown[] }[];
  try {
    found = documents(s);
  } catch (e) {
    return [(e as Error).message];
  }
  if (found.length === 0)
    return ["a wrangler config without vars.SWITCHYARD: mark it `skip` with the reason"];
  const fragment = s.marks.includes("fragment");
  return found.flatMap(({ where, docs }) => {
    const results = docs.map((doc) => checkConfig(fragment ? completed(doc) : doc).problems);
    if (results.some((problems) => problems.length === 0)) return [];
    return results[0]!.map((p) => `${where ? `${where}: ` : ""}${renderProblem(p)}`);
  });
}

const all = FILES.flatMap((f) => snippets(f, readFileSync(join(root, f), "utf8"))).flatMap(split);

describe("config snippets in the docs", () => {
  it("finds the snippets (the extraction works)", () => {
    expect(all.filter((s) => !s.marks.includes("skip")).length).toBeGreaterThan(5);
  });

  it.each(all.filter((s) => !s.marks.includes("skip")).map((s) => [`${s.file}:${s.line}`, s] as const))(
    "%s validates",
    (_, s) => {
      expect(check(s)).toEqual([]);
    },
  );

  it("says why when a snippet is skipped", () => {
    const bare = all.filter((s) => s.marks.length === 1 && s.marks[0] === "skip");
    expect(bare.map((s) => `${s.file}:${s.line}`)).toEqual([]);
  });
});

describe("the snippet checker", () => {
  const md = (body: string) => snippets("x.md", body);

  it("reads marks from the info string and from a comment before the fence", () => {
    const [a, b] = md(
      "```toml fragment\na = 1\n```\n\n<!-- snippet: skip an API response -->\n\n```json\n{}\n```\n",
    );
    expect(a).toMatchObject({ lang: "toml", marks: ["fragment"], line: 1, text: "a = 1" });
    expect(b).toMatchObject({ lang: "json", marks: ["skip", "an", "API", "response"] });
  });

  it("fails a snippet that stops validating, and a fragment only for what it shows", () => {
    const [whole] = md('```toml\n[[vars.SWITCHYARD.routes]]\nname = "a"\nservice = "api"\n```\n');
    expect(check(whole!).join("\n")).toMatch(/no service named "api"/);
    const [fragment] = md('```toml fragment\n[[vars.SWITCHYARD.routes]]\nname = "a"\nservice = "api"\n```\n');
    expect(check(fragment!)).toEqual([]);
    const [bad] = md(
      '```toml fragment\n[[vars.SWITCHYARD.routes]]\nname = "a"\nservice = "api"\nservce = 1\n```\n',
    );
    expect(check(bad!).join("\n")).toMatch(/unknown field "servce"/);
  });
});
