// 920/921: value-level protocol checks (NUL bytes, control characters, CR/LF, response splitting, %u).
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the patterns describe literal ${…} payloads.
import { T } from "../pipelines.ts";
import { type ManagedRule, rule } from "./types.ts";

export const PROTOCOL_RULES: readonly ManagedRule[] = [
  rule({
    id: "920270",
    category: "protocol",
    paranoia: 1,
    severity: "critical",
    // NUL byte in the request (raw or URL-encoded)
    on: ["path", "names", "values", "cookies", "headers"],
    t: T.none,
    any: "%\u0000",
    needs: ["%00", "\u0000"],
    re: /%00|\u0000/,
  }),
  rule({
    id: "920271",
    category: "protocol",
    paranoia: 2,
    severity: "warning",
    // Control character in the path or an argument name
    on: ["path", "names"],
    t: T.normal,
    any: "",
    re: /[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f]/,
  }),
  rule({
    id: "920275",
    category: "protocol",
    paranoia: 1,
    severity: "critical",
    // CR or LF in a header value
    on: ["ua", "referer", "headers", "cookies"],
    t: T.none,
    any: "",
    re: /[\r\n]/,
  }),
  rule({
    id: "920260",
    category: "protocol",
    paranoia: 1,
    severity: "warning",
    // IIS-style %u Unicode encoding
    on: ["path", "names", "values"],
    t: T.none,
    any: "%",
    needs: ["%u", "%U"],
    re: /%u[0-9a-f]{4}/i,
  }),
  rule({
    id: "920272",
    category: "protocol",
    paranoia: 3,
    severity: "notice",
    // Character outside printable ASCII in the path or an argument name
    on: ["path", "names"],
    t: T.normal,
    any: "",
    re: /[^\x20-\x7e]/,
  }),
  rule({
    id: "920273",
    category: "protocol",
    paranoia: 4,
    severity: "notice",
    // Path character outside the unreserved set (A-Z a-z 0-9 . / _ ~ % -)
    on: ["path"],
    t: T.none,
    any: "",
    re: /[^A-Za-z0-9./_~%-]/,
  }),
  rule({
    id: "921130",
    category: "protocol",
    paranoia: 1,
    severity: "critical",
    // HTTP response splitting: CR/LF followed by a header or a second response
    on: ["path", "names", "values", "cookies"],
    t: T.none,
    any: "%\r\n",
    needs: ["%0a", "%0A", "%0d", "%0D", "\n", "\r"],
    re: /(?:%0d|\r)?(?:%0a|\n)[ \t]{0,8}(?:[a-z-]{1,64}[ \t]{0,8}:|http\/\d)|(?:%0d|\r)(?:%0a|\n)(?:%0d|\r)(?:%0a|\n)/i,
  }),
];
