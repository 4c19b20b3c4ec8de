// What the managed ruleset reads: the request split into named values (path, query and body argument names and
// values, cookies, User-Agent, Referer, other headers) and the structural findings made on the way. Pure: the
// stage reads the body and undoes its Content-Encoding; this decodes its charset and parses it (body/*.ts).
import { type Anomaly, NOT_AS_DECLARED, OVERSIZE, OVERSIZE_IN_FILE, snippet } from "./anomalies.ts";
import { decodeBody } from "./body/charset.ts";
import { addTooDeep, nestsTooDeep, parseJson, walkJson, walkJsonLines } from "./body/json.ts";
import { addMultipart } from "./body/multipart.ts";
import { type BodySink, value } from "./body/sink.ts";
import { declaredKind, looksBinary, sniffKind } from "./body/sniff.ts";
import { addXml } from "./body/xml.ts";
import { isEdgeWritten } from "./edge-headers.ts";
import type { Part } from "./managed-rules.ts";
import { argumentAnomalies, DEFAULT_PROTOCOL, type ProtocolPolicy, requestAnomalies } from "./protocol.ts";

export interface Target {
  part: Part;
  /** Where the value came from, for explanations: "path", "args:q", "args_names", "body:user.name", "header:x-a". */
  location: string;
  raw: string;
}

export interface InspectBody {
  contentType: string;
  /** True when the body was longer than the limit (or its decoding was cut) and only its start is inspected. */
  truncated: boolean;
  /** The body as text, when the caller already has it (tests, the corpus, the benchmark). */
  text?: string;
  /** The body's bytes after Content-Encoding is undone; decoded to text here by its charset. */
  bytes?: Uint8Array;
  /** Bytes inspected at most (body_limit), for the oversize finding. */
  limit?: number;
  /** Findings of the body read (undecodable Content-Encoding, decompression bomb). */
  anomalies?: Anomaly[];
}

export interface InspectInput {
  method: string;
  /** The path as received (not decoded). */
  path: string;
  /** The query without "?" (not decoded). */
  query: string;
  headers: { forEach(cb: (value: string, name: string) => void): void };
  body?: InspectBody;
  /** The request URL's host, for the Host checks when the headers carry none (Workers keep it in the URL). */
  host?: string;
  /** Allowed methods, content types and charsets (waf.managed); the defaults when absent. */
  protocol?: ProtocolPolicy;
  /** The engine's paranoia level: checks above it are not run (default 4: all). */
  paranoia?: number;
}

export interface Inspection {
  targets: Target[];
  /**
   * The request method. With it the engine also runs the content checks of argument names, values and cookies
   * (protocol.ts argumentValueAnomalies) on the values it inspects; an inspection built by hand may leave it out.
   */
  method?: string;
  /** Query plus body arguments, for the excessive-arguments check. */
  argCount: number;
  /** Structural findings (protocol violations, bodies not fully inspected), scored by anomalies.ts. */
  anomalies: Anomaly[];
}

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

/** The body's names and values, by its declared format or, failing that, by what it looks like. */
function addBody(body: InspectBody, sink: BodySink, seen: { json: boolean; text: string }): number {
  const text = body.text ?? (body.bytes ? decodeBody(body.bytes, body.contentType).text : "");
  seen.text = text;
  if (text === "") return 0;
  const declared = declaredKind(body.contentType);
  const kind = declared ?? sniffKind(text);
  const oversize = (inFile: boolean) => {
    const n = String(body.limit ?? text.length);
    sink.anomalies.push({ id: inFile ? OVERSIZE_IN_FILE : OVERSIZE, location: `body>${n}`, snippet: n });
  };
  switch (kind) {
    case "form": {
      const n = addPairs(text, "body", sink.targets);
      if (body.truncated) oversize(false);
      return n;
    }
    case "json":
    case "json-lines": {
      let n: number | undefined;
      if (!body.truncated) {
        if (kind === "json") {
          // Deeper than the walk goes: skip the parse (its cost grows with depth) and read the text itself.
          if (text.length > 64 && nestsTooDeep(text)) {
            addTooDeep(text, sink);
            seen.json = true;
            return 0;
          }
          const parsed = parseJson(text);
          if (parsed) n = walkJson(parsed.doc, text, sink);
        } else n = walkJsonLines(text, sink);
      }
      if (n !== undefined) {
        seen.json = true;
        return n;
      }
      // Cut or broken: the text is inspected as it is, so a document that does not parse hides nothing.
      if (declared && !body.truncated) {
        sink.anomalies.push({ id: NOT_AS_DECLARED, location: "body", snippet: snippet(text) });
      }
      break;
    }
    case "multipart": {
      const ct = declared
        ? body.contentType
        : `multipart/form-data; boundary=${text.slice(2, text.search(/\r?\n/))}`;
      const r = addMultipart(text, ct, sink);
      if (body.truncated) oversize(r.endsInBinaryFile);
      return r.args;
    }
    case "xml": {
      const n = addXml(text, sink);
      // Sniffed markup may be HTML rather than XML: its tags matter too.
      if (!declared) value(sink, "body", text);
      if (body.truncated) oversize(false);
      return n;
    }
    case "text":
      break;
  }
  if (looksBinary(text)) return 0;
  value(sink, "body", text);
  if (body.truncated) oversize(false);
  return 0;
}

export function collectTargets(input: InspectInput): Inspection {
  const targets: Target[] = [{ part: "path", location: "path", raw: input.path }];
  let argCount = input.query === "" ? 0 : addPairs(input.query, "args", targets);
  let cookie = "";
  // Read once here: Headers.forEach is not cheap, and the protocol checks read them again.
  const headerList: Array<[string, string]> = [];
  input.headers.forEach((value, name) => {
    const n = name.toLowerCase();
    headerList.push([n, value]);
    if (n === "user-agent") targets.push({ part: "ua", location: "header:user-agent", raw: value });
    else if (n === "referer") targets.push({ part: "referer", location: "header:referer", raw: value });
    else if (n === "cookie") {
      cookie = value;
      for (const c of value.split(";")) {
        const eq = c.indexOf("=");
        if (eq === -1) continue;
        targets.push({
          part: "cookies",
          location: `cookie:${c.slice(0, eq).trim().slice(0, 64)}`,
          raw: c.slice(eq + 1).trim(),
        });
      }
    } else if (!isEdgeWritten(n, value))
      targets.push({ part: "headers", location: `header:${n}`, raw: value });
  });
  const anomalies: Anomaly[] = [];
  const seen = { json: false, text: "" };
  const body = input.body;
  if (body) {
    if (body.anomalies) anomalies.push(...body.anomalies);
    argCount += addBody(body, { targets, anomalies }, seen);
  }
  const hasBody = body !== undefined && (body.truncated || (body.bytes ?? body.text ?? "").length > 0);
  const facts = { hasBody, jsonBody: seen.json, bodyContentType: body?.contentType || undefined };
  requestAnomalies(
    { ...input, ...facts, headers: headerList },
    input.protocol ?? DEFAULT_PROTOCOL,
    anomalies,
  );
  const scope = {
    method: input.method,
    texts: [input.query, seen.text, cookie],
    paranoia: input.paranoia ?? 4,
  };
  argumentAnomalies(targets, scope, anomalies);
  return { targets, method: input.method, argCount, anomalies };
}
