// 941: cross-site scripting.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the patterns describe literal ${…} payloads.
import { detectCssScript, detectXss } from "../detect/html.ts";
import { withUrlParams } from "../detect/url-values.ts";
import { T } from "../pipelines.ts";
import { INPUT, INPUT_PATH, type ManagedRule, rule } from "./types.ts";

export const XSS_RULES: readonly ManagedRule[] = [
  rule({
    id: "941100",
    category: "xss",
    paranoia: 1,
    severity: "critical",
    // XSS by HTML structure: a script-running tag, an event handler, a script URI, script in a style
    on: [...INPUT_PATH, "referer", "ua"],
    t: T.normal,
    any: "<=:{",
    detect: withUrlParams(detectXss),
  }),
  rule({
    id: "941160",
    category: "xss",
    paranoia: 1,
    severity: "critical",
    // JavaScript breaking out of a string or attribute into a call ("-alert(1)-", ');alert(1)//)
    on: INPUT,
    t: T.normal,
    any: "'\"`;",
    also: "(`",
    needs: [
      "alert",
      "prompt",
      "confirm",
      "eval",
      "print",
      "fetch",
      "settimeout",
      "setinterval",
      "document.write",
      "window.open",
    ],
    re: /['"`]\s*(?:[-+*/;,)]|\)\s*;)\s*(?:alert|prompt|confirm|eval|print|fetch|settimeout|setinterval|document\.write|window\.open)\s*[(`]/,
  }),
  rule({
    id: "941170",
    category: "xss",
    paranoia: 1,
    severity: "critical",
    // DOM access used in XSS payloads (document.cookie, window.location, String.fromCharCode)
    on: INPUT,
    t: T.normal,
    any: ".",
    needs: ["document", "window", "string", "location", "innerhtml"],
    // document.cookie used in code (concatenated, assigned, passed), not named in a sentence.
    re: /[=+(,]\s*document\s*\.\s*(?:cookie|domain)\b|\bdocument\s*\.\s*(?:cookie|domain)\s*[=+;),]|\bdocument\s*\.\s*(?:write(?:ln)?\s*\(|location\s*=)|\bwindow\s*\.\s*location\s*=|\bstring\s*\.\s*fromcharcode\s*\(|\blocation\s*\.\s*(?:href|hash)\s*=|\.innerhtml\s*=/,
  }),
  rule({
    id: "941180",
    category: "xss",
    paranoia: 1,
    severity: "warning",
    // Call of alert/prompt/confirm/eval with a literal
    on: INPUT,
    t: T.normal,
    any: "(`",
    needs: ["alert", "prompt", "confirm", "eval"],
    re: /\b(?:alert|prompt|confirm|eval)\s*(?:\(\s*(?:['"`\d]|document|window|\/|\))|`)/,
  }),
  rule({
    id: "941190",
    category: "xss",
    paranoia: 1,
    severity: "critical",
    // Script in CSS: expression(), -moz-binding, behavior, url(javascript:), after CSS escapes
    on: INPUT,
    t: T.css,
    any: "(-\\",
    needs: ["expression", "-moz-binding", "behavio", "url"],
    detect: detectCssScript,
  }),
  rule({
    id: "941200",
    category: "xss",
    paranoia: 2,
    severity: "error",
    // Any HTML tag with attributes in input
    on: INPUT,
    t: T.normal,
    any: "<",
    re: /<[a-z][a-z0-9]*\s+[a-z-]+\s*=/,
  }),
  rule({
    id: "941300",
    category: "xss",
    paranoia: 3,
    severity: "notice",
    // Any HTML tag in input
    on: INPUT,
    t: T.normal,
    any: "<",
    re: /<\/?[a-z!]/,
  }),
];
