// Cross-site scripting by structure: a small HTML tokenizer reads each tag the way a browser would start to
// (name, then attributes separated by spaces or slashes, quoted or bare values) and reports a tag that runs
// script (script, iframe, object, …), an event-handler attribute, a script URI in a URL attribute, script in a
// style; outside tags it finds an attribute breakout (" onmouseover=alert(1)), a javascript: value, and
// client-side template expressions. Input is the decoded, lower-case form of a value.
import type { Hit } from "./hit.ts";
import { keywordInside } from "./inside.ts";

/** Elements that run or load script, or change where the page's URLs and forms go, by merely being there. */
const ACTIVE_TAGS = new Set(
  (
    "script iframe frame frameset object embed applet base style meta link svg math isindex xml import " +
    "vmlframe xss marquee template portal set animate handler listener bgsound layer ilayer"
  ).split(" "),
);
/** Attributes whose value is a URL the browser loads or navigates to. */
const URL_ATTRS = new Set(
  (
    "href src action formaction data xlink:href background lowsrc dynsrc poster codebase values to from by " +
    "srcdoc content folder icon manifest ping cite longdesc usemap profile classid archive"
  ).split(" "),
);

const isSpace = (c: string | undefined) => c === " " || c === "\n" || c === "\t" || c === "\r" || c === "\f";
const isNameStart = (c: string | undefined) => c !== undefined && c >= "a" && c <= "z";

/** Whether a URL (attribute value or whole input) uses a scheme that runs script. */
export function scriptUri(value: string): boolean {
  // Browsers drop control characters and spaces inside the scheme: "java\tscript:", " javascript:".
  let scheme = "";
  for (let i = 0; i < value.length && scheme.length < 12; i++) {
    const c = value[i]!;
    if (c === ":") break;
    if (c <= " ") continue;
    scheme += c;
  }
  if (scheme === "javascript" || scheme === "vbscript" || scheme === "livescript") return true;
  if (scheme !== "data") return false;
  return /^[^,]{0,80}?(?:text\/html|image\/svg|text\/xml|application\/xhtml|base64\s*,\s*phn)/.test(
    value.slice(value.indexOf(":") + 1),
  );
}

/** javascript: followed by code: an identifier chain then a call, template, assignment or index. */
const JS_URI_CODE =
  /(?:^|[\s"'`(=,;/])(?:j\s*a\s*v\s*a|v\s*b|l\s*i\s*v\s*e)\s*s\s*c\s*r\s*i\s*p\s*t\s*:\s*(?:\/\/[^\n]{0,256}\n\s*|\/\*[\s\S]{0,256}?\*\/\s*)?[\w$.[\]'"]{1,128}\s*[(`=[]/;
/** An event handler with code in it, outside a tag: " onmouseover=alert(1), ' autofocus onfocus=x(1) '. */
const HANDLER_CODE = /(?:^|["'`]|[\s/])on[a-z]{3,32}\s*=\s*["'`]?\s*[\w$.[\]]{1,128}\s*[(`=.[]/;
/** Script in CSS: expression(), a binding, a behavior, or a script URL inside url(). */
const CSS_SCRIPT =
  /\bexpression\s*\(|-moz-binding\s*:|\bbehavio(?:u)?r\s*:\s*url|url\s*\(\s*["']?\s*(?:javascript|vbscript):/;
/** Client-side template injection (AngularJS, Vue): inside {{ }}, a way to the Function constructor or $eval. */
const TEMPLATE_WORDS = /constructor|\$eval|\$on\b|\$emit|_c\.|\b(?:alert|prompt|confirm)\s*\(|\bthis\b|\$\{/g;

/** Reads the tag starting at text[lt] === "<"; returns the hit if it is active, and where scanning resumes. */
function readTag(text: string, lt: number): { hit?: Hit; next: number } {
  let i = lt + 1;
  if (text[i] === "/") i++;
  if (!isNameStart(text[i])) return { next: lt + 1 };
  const nameStart = i;
  while (i < text.length && !isSpace(text[i]) && text[i] !== "/" && text[i] !== ">" && text[i] !== "<") i++;
  const name = text.slice(nameStart, i);
  const hit = (): Hit => ({ at: lt, end: i, note: name });
  if (ACTIVE_TAGS.has(name) || name.startsWith("script")) return { hit: hit(), next: i };
  // Attributes until ">" or the end (an injected tag often stops where the value does).
  while (i < text.length) {
    while (i < text.length && (isSpace(text[i]) || text[i] === "/")) i++;
    const c = text[i];
    if (c === undefined || c === ">" || c === "<") break;
    const attrStart = i;
    while (
      i < text.length &&
      !isSpace(text[i]) &&
      text[i] !== "/" &&
      text[i] !== ">" &&
      text[i] !== "=" &&
      text[i] !== "<"
    )
      i++;
    const attr = text.slice(attrStart, i);
    while (isSpace(text[i])) i++;
    let value = "";
    if (text[i] === "=") {
      i++;
      while (isSpace(text[i])) i++;
      const q = text[i];
      if (q === '"' || q === "'" || q === "`") {
        const close = text.indexOf(q, i + 1);
        const end = close === -1 ? text.length : close;
        value = text.slice(i + 1, end);
        i = close === -1 ? end : close + 1;
      } else {
        const vs = i;
        while (i < text.length && !isSpace(text[i]) && text[i] !== ">") i++;
        value = text.slice(vs, i);
      }
    }
    if (/^on[a-z]{3,}$/.test(attr)) return { hit: hit(), next: i };
    if (URL_ATTRS.has(attr) && scriptUri(value)) return { hit: hit(), next: i };
    if (attr === "style" && CSS_SCRIPT.test(value)) return { hit: hit(), next: i };
    if (i === attrStart) i++;
  }
  return { next: i };
}

/** The first sign of XSS in text (decoded, lower case), if any. */
export function detectXss(text: string): Hit | undefined {
  for (let lt = text.indexOf("<"); lt !== -1 && lt < text.length; ) {
    const { hit, next } = readTag(text, lt);
    if (hit) return hit;
    lt = text.indexOf("<", Math.max(next, lt + 1));
  }
  const start = text.trimStart();
  if (start.startsWith("data:") && scriptUri(start.slice(0, 128)))
    return { at: 0, end: Math.min(text.length, 64) };
  for (const re of [HANDLER_CODE, JS_URI_CODE]) {
    const m = re.exec(text);
    if (m) return { at: m.index, end: m.index + m[0].length };
  }
  return text.includes("{{") ? keywordInside(text, TEMPLATE_WORDS, ["{{"]) : undefined;
}

/** Script inside CSS (a style attribute's value, or a stylesheet sent as a parameter). */
export function detectCssScript(text: string): Hit | undefined {
  const m = CSS_SCRIPT.exec(text);
  return m ? { at: m.index, end: m.index + m[0].length } : undefined;
}
