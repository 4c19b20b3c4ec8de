// JSON bodies: every key (with its path, so prototype pollution across levels shows) and every string value.
// The walk is iterative and stops descending at MAX_JSON_DEPTH; below that the raw text is inspected instead
// and the depth itself is reported (920900), so nesting hides nothing.
import { type BodySink, NAME_IN_LOCATION, name, value } from "./sink.ts";

export const MAX_JSON_DEPTH = 32;
export const TOO_DEEP = "920900";

/** Names and values of a parsed document; returns the argument count (keys and strings). */
export function walkJson(doc: unknown, raw: string, sink: BodySink): number {
  let n = 0;
  let tooDeep = false;
  // A name entry is emitted when popped, so each key comes just before its value, in document order.
  const stack: Array<{ v: unknown; path: string; depth: number } | { key: string }> = [
    { v: doc, path: "", depth: 0 },
  ];
  while (stack.length > 0) {
    const top = stack.pop()!;
    if ("key" in top) {
      name(sink, top.key, "json_names");
      n++;
      continue;
    }
    const { v, path, depth } = top;
    if (typeof v === "string") {
      value(sink, `body:${path || "$"}`, v);
      n++;
      continue;
    }
    if (v === null || typeof v !== "object") continue;
    if (depth >= MAX_JSON_DEPTH) {
      tooDeep = true;
      continue;
    }
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--)
        stack.push({ v: v[i], path: `${path}[${i}]`, depth: depth + 1 });
      continue;
    }
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i]!;
      const at = path ? `${path}.${k.slice(0, NAME_IN_LOCATION)}` : k.slice(0, NAME_IN_LOCATION);
      stack.push({ v: (v as Record<string, unknown>)[k], path: at, depth: depth + 1 });
      // The full key is inspected; the path in front of it keeps each earlier key short.
      stack.push({ key: path ? `${path}.${k}` : k });
    }
  }
  if (tooDeep) addTooDeep(raw, sink);
  return n;
}

/** Whether brackets nest deeper than MAX_JSON_DEPTH (outside strings): one pass, no parse. */
export function nestsTooDeep(text: string): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_JSON_DEPTH) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** A document nested past the cap: its raw text is inspected, its depth reported, and it is not parsed. */
export function addTooDeep(text: string, sink: BodySink): void {
  sink.anomalies.push({ id: TOO_DEEP, location: "body", snippet: `depth>${MAX_JSON_DEPTH}` });
  value(sink, "body:raw", text);
}

/** Parses text as JSON; undefined when it is not JSON. */
export function parseJson(text: string): { doc: unknown } | undefined {
  try {
    return { doc: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

/** Newline-delimited JSON (application/x-ndjson, jsonl, json-seq): each line a document. */
export function walkJsonLines(text: string, sink: BodySink): number | undefined {
  let n = 0;
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    const line = text.slice(start, end).replace(/^[\s\u001e]+|\s+$/g, "");
    if (line !== "") {
      const parsed = parseJson(line);
      if (!parsed) return undefined;
      n += walkJson(parsed.doc, line, sink);
    }
    start = end + 1;
  }
  return n;
}
