// What a body is: by its Content-Type when that names a format we parse, otherwise by its first bytes, so a
// JSON document sent as application/octet-stream, text/plain or with no Content-Type is still read as JSON.

export type BodyKind = "form" | "json" | "json-lines" | "multipart" | "xml" | "text";

/** The format a Content-Type declares, or undefined when it names none we parse. */
export function declaredKind(contentType: string): BodyKind | undefined {
  const ct = contentType.trim().toLowerCase();
  if (ct.startsWith("application/x-www-form-urlencoded")) return "form";
  if (ct.startsWith("multipart/")) return "multipart";
  if (/^application\/(?:x-ndjson|jsonl|json-seq|x-jsonlines)\b/.test(ct)) return "json-lines";
  if (/^[\w.+-]+\/(?:[\w.-]+\+)?json\b/.test(ct)) return "json";
  if (/^[\w.+-]+\/(?:[\w.-]+\+)?xml\b/.test(ct)) return "xml";
  return undefined;
}

const FORM = /^[\w.%[\]-]{1,256}=[^\s]*$/;

/** The format the text itself shows, for bodies whose Content-Type names none. */
export function sniffKind(text: string): BodyKind {
  let i = 0;
  while (i < text.length && i < 256 && /\s/.test(text[i]!)) i++;
  const c = text[i];
  if (c === "{" || c === "[") return "json";
  if (c === "<") return "xml";
  if (
    c === "-" &&
    text.startsWith("--", i) &&
    /^--[^\r\n]{1,200}\r?\nContent-Disposition:/i.test(text.slice(i, i + 400))
  ) {
    return "multipart";
  }
  if (FORM.test(text.slice(0, 4096)) && text.includes("=")) return "form";
  return "text";
}

/** A body decoded as text looks binary when its start has NUL bytes or many undecodable sequences. */
export function looksBinary(text: string): boolean {
  const head = text.length > 1024 ? text.slice(0, 1024) : text;
  if (head.includes("\u0000")) return true;
  let bad = 0;
  for (let i = 0; i < head.length; i++) if (head.charCodeAt(i) === 0xfffd) bad++;
  return bad > head.length / 10;
}
