// XML bodies: element text (CDATA included) and attribute values, entity references decoded, as an XML parser
// hands them to an application. A DOCTYPE with an internal subset or an ENTITY declaration is reported
// (920910: external entities, entity expansion) and its text inspected too. One forward scan, no recursion;
// the element stack only names locations and is capped.
import { type BodySink, value } from "./sink.ts";

export const DOCTYPE = "920910";
const MAX_STACK = 32;

const NAMED: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

export function decodeXmlEntities(s: string): string {
  if (!s.includes("&")) return s;
  return s.replace(/&(?:#x([0-9a-f]{1,6})|#(\d{1,7})|([a-z]{2,4}));/gi, (m, hex, dec, named) => {
    if (named) return NAMED[named.toLowerCase()] ?? m;
    const cp = hex ? Number.parseInt(hex, 16) : Number(dec);
    return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
  });
}

const ATTR = /([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

/** The ">" that ends a tag, skipping quoted attribute values (which may hold ">"); -1 when none. */
function tagEnd(text: string, from: number): number {
  let quote = "";
  for (let i = from; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== "") {
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ">") return i;
  }
  return -1;
}

/** Returns the number of values found. */
export function addXml(text: string, sink: BodySink): number {
  const stack: string[] = [];
  let n = 0;
  const where = () => `body:xml:${stack.length > 0 ? stack[stack.length - 1] : "$"}`;
  const text_ = (raw: string) => {
    const t = raw.trim();
    if (t === "") return;
    value(sink, where(), decodeXmlEntities(t));
    n++;
  };
  let i = 0;
  while (i < text.length) {
    const lt = text.indexOf("<", i);
    if (lt === -1) {
      text_(text.slice(i));
      break;
    }
    if (lt > i) text_(text.slice(i, lt));
    if (text.startsWith("<!--", lt)) {
      const end = text.indexOf("-->", lt + 4);
      i = end === -1 ? text.length : end + 3;
      continue;
    }
    if (text.startsWith("<![CDATA[", lt)) {
      const end = text.indexOf("]]>", lt + 9);
      const body = text.slice(lt + 9, end === -1 ? text.length : end);
      if (body.trim() !== "") {
        value(sink, where(), body);
        n++;
      }
      i = end === -1 ? text.length : end + 3;
      continue;
    }
    if (text.startsWith("<!", lt)) {
      // DOCTYPE: its internal subset [ ... ] may hold ">" inside declarations, so end after "]" when present.
      const bracket = text.indexOf("[", lt);
      const close = text.indexOf(">", lt);
      let end = close;
      if (bracket !== -1 && (close === -1 || bracket < close)) {
        const sq = text.indexOf("]", bracket);
        end = sq === -1 ? -1 : text.indexOf(">", sq);
      }
      const decl = text.slice(lt, end === -1 ? text.length : end + 1);
      if (/^<!doctype/i.test(decl) && (bracket !== -1 || /<!entity|\bsystem\b|\bpublic\b/i.test(decl))) {
        sink.anomalies.push({ id: DOCTYPE, location: "body:xml", snippet: decl });
        value(sink, "body:xml:doctype", decl);
        n++;
      }
      i = end === -1 ? text.length : end + 1;
      continue;
    }
    const gt = tagEnd(text, lt + 1);
    if (gt === -1) {
      // An unterminated tag or quote: what follows is not XML a parser would accept; inspect it as it is.
      value(sink, where(), text.slice(lt));
      n++;
      break;
    }
    const tag = text.slice(lt + 1, gt);
    i = gt + 1;
    if (tag.startsWith("?")) continue;
    if (tag.startsWith("/")) {
      stack.pop();
      continue;
    }
    let nameEnd = 0;
    while (nameEnd < tag.length && !/[\s/]/.test(tag[nameEnd]!)) nameEnd++;
    const el = tag.slice(0, Math.min(nameEnd, 64));
    if (tag.includes("=", nameEnd)) {
      ATTR.lastIndex = nameEnd;
      for (let m = ATTR.exec(tag); m !== null; m = ATTR.exec(tag)) {
        value(sink, `body:xml:${el}@${m[1]!.slice(0, 64)}`, decodeXmlEntities(m[2] ?? m[3] ?? ""));
        n++;
      }
    }
    if (!tag.endsWith("/")) {
      if (stack.length >= MAX_STACK) stack.shift();
      stack.push(el);
    }
  }
  return n;
}
