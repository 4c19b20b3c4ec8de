// multipart/form-data (RFC 7578) and nested multipart/mixed: field names, field values, file names, and the
// contents of files that are text (a script or a web shell is text; an image is not). Parameters are read as
// RFC 7578 allows (token or quoted), `filename` only from a real filename parameter. Linear: every search moves
// forward, headers are read only up to the next delimiter, parts and nesting are capped.
import { parseHeaderParams } from "./params.ts";
import { type BodySink, NAME_IN_LOCATION, name, value } from "./sink.ts";
import { looksBinary } from "./sniff.ts";

export const BROKEN = "920906";
export const BAD_PARAMS = "920907";
export const LIMITS = "920908";
export const FILE_NAME_CHARS = "920911";

export const MAX_PARTS = 1000;
export const MAX_NESTING = 2;
const MAX_HEADER_LINES = 32;

export interface MultipartResult {
  args: number;
  /** The text ended inside a part that is a binary file (for the oversize finding). */
  endsInBinaryFile: boolean;
}

/** Quote, semicolon, equals or backslash in a file or field name: what lets a name be read two ways. */
function suspiciousName(s: string): boolean {
  return /["';=\\]/.test(s.replace(/&[a-z]{2,8};|&#\d{1,6};/gi, ""));
}

/** Start of the next delimiter line ("--boundary" at a line start) at or after `from`, or -1. */
function nextDelimiter(text: string, delim: string, from: number): number {
  if (from === 0 && text.startsWith(delim)) return 0;
  const at = text.indexOf(`\n${delim}`, Math.max(0, from - 1));
  return at === -1 ? -1 : at + 1;
}

export function addMultipart(
  text: string,
  contentType: string,
  sink: BodySink,
  depth = 0,
  where = "body",
): MultipartResult {
  const result: MultipartResult = { args: 0, endsInBinaryFile: false };
  const boundary = parseHeaderParams(contentType).params.get("boundary");
  const broken = (why: string) => sink.anomalies.push({ id: BROKEN, location: where, snippet: why });
  if (!boundary) {
    broken("no boundary");
    value(sink, where, text);
    return result;
  }
  const delim = `--${boundary}`;
  let pos = nextDelimiter(text, delim, 0);
  if (pos === -1) {
    broken(`no delimiter --${boundary}`);
    value(sink, where, text);
    return result;
  }
  let parts = 0;
  for (;;) {
    const after = pos + delim.length;
    if (text.startsWith("--", after)) return result;
    const lineEnd = text.indexOf("\n", after);
    if (lineEnd === -1) return result;
    const next = nextDelimiter(text, delim, lineEnd + 1);
    const end = next === -1 ? text.length : next;
    // Headers: lines up to an empty one, never past the next delimiter.
    const headers = new Map<string, string>();
    let p = lineEnd + 1;
    let bodyStart = -1;
    for (let lines = 0; p < end && lines <= MAX_HEADER_LINES; lines++) {
      let nl = text.indexOf("\n", p);
      if (nl === -1 || nl >= end) nl = end;
      const line = text.slice(p, text[nl - 1] === "\r" ? nl - 1 : nl);
      p = nl + 1;
      if (line === "") {
        bodyStart = p;
        break;
      }
      const colon = line.indexOf(":");
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    if (next === -1 && bodyStart === -1) return result;
    if (++parts > MAX_PARTS) {
      sink.anomalies.push({ id: LIMITS, location: where, snippet: `more than ${MAX_PARTS} parts` });
      value(sink, `${where}:rest`, text.slice(pos));
      return result;
    }
    // The content ends before the line break that precedes the next delimiter.
    let contentEnd = end;
    if (next !== -1) contentEnd = text[next - 2] === "\r" ? next - 2 : next - 1;
    const content = bodyStart === -1 || bodyStart > contentEnd ? "" : text.slice(bodyStart, contentEnd);
    const isLast = next === -1;
    part(headers, content, isLast);
    if (isLast) return result;
    pos = next;
  }

  function part(headers: Map<string, string>, content: string, isLast: boolean): void {
    const disposition = headers.get("content-disposition");
    const type = headers.get("content-type") ?? "";
    let field: string | undefined;
    let filename: string | undefined;
    if (disposition === undefined) broken("part without Content-Disposition");
    else {
      const d = parseHeaderParams(disposition);
      const allowed =
        depth === 0 ? d.type === "form-data" : /^(?:form-data|file|attachment|inline)$/.test(d.type);
      if (!allowed) broken(`Content-Disposition ${d.type}`);
      if (d.problems.length > 0) {
        sink.anomalies.push({ id: BAD_PARAMS, location: where, snippet: d.problems[0]! });
      }
      field = d.params.get("name");
      filename = d.params.get("filename*") ?? d.params.get("filename");
    }
    const label = `${where}:${(field ?? "").slice(0, NAME_IN_LOCATION)}`;
    if (field !== undefined) name(sink, field);
    result.args++;
    if (filename !== undefined) {
      value(sink, `${label}.filename`, filename);
      if (suspiciousName(filename) || (field !== undefined && suspiciousName(field))) {
        sink.anomalies.push({ id: FILE_NAME_CHARS, location: `${label}.filename`, snippet: filename });
      }
    }
    const nested = /^multipart\//i.test(type);
    if (nested && depth < MAX_NESTING) {
      const inner = addMultipart(content, type, sink, depth + 1, label);
      result.args += inner.args;
      if (isLast) result.endsInBinaryFile = inner.endsInBinaryFile;
      return;
    }
    if (nested)
      sink.anomalies.push({
        id: LIMITS,
        location: label,
        snippet: `multipart nested deeper than ${MAX_NESTING}`,
      });
    if (filename !== undefined && looksBinary(content)) {
      if (isLast) result.endsInBinaryFile = true;
      return;
    }
    if (content !== "") value(sink, filename !== undefined ? `${label}.content` : label, content);
  }
}
