// What the managed ruleset reads: the request split into named values (path, query and body argument names and
// values, cookies, User-Agent, Referer, other headers). Pure: the stage reads the body; this only parses text.
import { type Anomaly, OVERSIZE } from "./anomalies.ts";
import type { Part } from "./managed-rules.ts";

export interface Target {
  part: Part;
  /** Where the value came from, for explanations: "path", "args:q", "args_names", "body:user.name", "header:x-a". */
  location: string;
  raw: string;
}

export interface InspectBody {
  /** The first body_limit bytes, decoded as UTF-8. */
  text: string;
  contentType: string;
  /** True when the body was longer than the limit and only its start is inspected. */
  truncated: boolean;
}

export interface InspectInput {
  method: string;
  /** The path as received (not decoded). */
  path: string;
  /** The query without "?" (not decoded). */
  query: string;
  headers: { forEach(cb: (value: string, name: string) => void): void };
  body?: InspectBody;
}

export interface Inspection {
  targets: Target[];
  /** Query plus body arguments, for the excessive-arguments check. */
  argCount: number;
  /** Structural findings (protocol violations, bodies not fully inspected), scored by anomalies.ts. */
  anomalies: Anomaly[];
}

const MAX_JSON_DEPTH = 32;

/** An argument value; its location ("args:q") is only built when a rule matches and an explanation needs it. */
class ArgValue implements Target {
  readonly part = "values";
  readonly raw: string;
  private readonly where: string;
  private readonly name: string;
  constructor(where: string, name: string, raw: string) {
    this.where = where;
    this.name = name;
    this.raw = raw;
  }
  get location(): string {
    return `${this.where}:${this.name.slice(0, 64)}`;
  }
}

/** name=value pairs separated by "&"; slices the text directly (no array of pairs), as a form has hundreds. */
function addPairs(text: string, where: string, targets: Target[]): number {
  let n = 0;
  const names = `${where}_names`;
  // The next "=" at or after the current pair (-1: none left), so the text is searched for "=" only once.
  let nextEq = -2;
  for (let start = 0; start <= text.length; ) {
    let end = text.indexOf("&", start);
    if (end === -1) end = text.length;
    if (end > start) {
      n++;
      if (nextEq !== -1 && nextEq < start) nextEq = text.indexOf("=", start);
      const eq = nextEq !== -1 && nextEq < end ? nextEq : -1;
      const name = text.slice(start, eq === -1 ? end : eq);
      targets.push({ part: "names", location: names, raw: name });
      if (eq !== -1 && eq < end - 1) targets.push(new ArgValue(where, name, text.slice(eq + 1, end)));
    }
    start = end + 1;
  }
  return n;
}

function walkJson(v: unknown, path: string, targets: Target[], depth: number): number {
  if (depth > MAX_JSON_DEPTH) return 0;
  if (typeof v === "string") {
    targets.push({ part: "values", location: `body:${path || "$"}`, raw: v });
    return 1;
  }
  if (Array.isArray(v)) {
    let n = 0;
    v.forEach((x, i) => {
      n += walkJson(x, `${path}[${i}]`, targets, depth + 1);
    });
    return n;
  }
  if (v !== null && typeof v === "object") {
    let n = 0;
    for (const [k, x] of Object.entries(v)) {
      // Names carry their path ("constructor.prototype"), so pollution across nesting levels is visible.
      const at = path ? `${path}.${k}` : k;
      targets.push({ part: "names", location: "body_names", raw: at });
      n += 1 + walkJson(x, at, targets, depth + 1);
    }
    return n;
  }
  return 0;
}

/** Multipart parts: field names and the contents of non-file parts (file contents are not inspected). */
function addMultipart(body: InspectBody, targets: Target[]): number {
  const m = /boundary="?([^";]+)"?/i.exec(body.contentType);
  if (!m) return 0;
  let n = 0;
  for (const part of body.text.split(`--${m[1]}`)) {
    const headEnd = part.indexOf("\r\n\r\n");
    if (headEnd === -1) continue;
    const head = part.slice(0, headEnd);
    const nameMatch = /name="([^"]*)"/i.exec(head);
    if (!nameMatch) continue;
    n++;
    targets.push({ part: "names", location: "body_names", raw: nameMatch[1]! });
    if (/filename=/i.test(head)) {
      const fn = /filename="([^"]*)"/i.exec(head);
      if (fn) targets.push({ part: "values", location: `body:${nameMatch[1]}.filename`, raw: fn[1]! });
      continue;
    }
    targets.push({
      part: "values",
      location: `body:${nameMatch[1]}`,
      raw: part.slice(headEnd + 4).replace(/\r\n$/, ""),
    });
  }
  return n;
}

function addBody(body: InspectBody, targets: Target[]): number {
  const ct = body.contentType.toLowerCase();
  if (body.text === "") return 0;
  if (ct.startsWith("application/x-www-form-urlencoded")) return addPairs(body.text, "body", targets);
  if (ct.includes("json")) {
    if (!body.truncated) {
      try {
        return walkJson(JSON.parse(body.text), "", targets, 0);
      } catch {
        // Not valid JSON: inspect it as text below, so a broken document hides nothing.
      }
    }
  } else if (ct.startsWith("multipart/form-data")) {
    return addMultipart(body, targets);
  } else if (/^(?:image|audio|video|font)\/|^application\/(?:octet-stream|zip|gzip|pdf|wasm)/.test(ct)) {
    return 0;
  }
  if (looksBinary(body.text)) return 0;
  targets.push({ part: "values", location: "body", raw: body.text });
  return 0;
}

/** A body of unknown type is inspected as text only when it looks like text (no NUL, few invalid bytes). */
function looksBinary(text: string): boolean {
  const head = text.slice(0, 1024);
  if (head.includes("\u0000")) return true;
  let bad = 0;
  for (let i = 0; i < head.length; i++) if (head.charCodeAt(i) === 0xfffd) bad++;
  return bad > head.length / 10;
}

export function collectTargets(input: InspectInput): Inspection {
  const targets: Target[] = [{ part: "path", location: "path", raw: input.path }];
  let argCount = input.query === "" ? 0 : addPairs(input.query, "args", targets);
  input.headers.forEach((value, name) => {
    const n = name.toLowerCase();
    if (n === "user-agent") targets.push({ part: "ua", location: "header:user-agent", raw: value });
    else if (n === "referer") targets.push({ part: "referer", location: "header:referer", raw: value });
    else if (n === "cookie") {
      for (const c of value.split(";")) {
        const eq = c.indexOf("=");
        if (eq === -1) continue;
        targets.push({
          part: "cookies",
          location: `cookie:${c.slice(0, eq).trim().slice(0, 64)}`,
          raw: c.slice(eq + 1).trim(),
        });
      }
    } else targets.push({ part: "headers", location: `header:${n}`, raw: value });
  });
  const anomalies: Anomaly[] = [];
  if (input.body) {
    argCount += addBody(input.body, targets);
    if (input.body.truncated) {
      const n = String(input.body.text.length);
      anomalies.push({ id: OVERSIZE, location: `body>${n}`, snippet: n });
    }
  }
  return { targets, argCount, anomalies };
}
