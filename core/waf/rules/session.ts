// 943: session fixation: a request that sets a session identifier from a parameter, or plants one with
// script or a meta tag.
import { T } from "../pipelines.ts";
import { INPUT, type ManagedRule, rule } from "./types.ts";

export const SESSION_RULES: readonly ManagedRule[] = [
  rule({
    id: "943100",
    category: "session-fixation",
    paranoia: 1,
    severity: "critical",
    // Session fixation: a cookie set from input (document.cookie=, Set-Cookie meta tag or header)
    on: INPUT,
    t: T.normal,
    any: "=:",
    needs: ["cookie"],
    re: /\.cookie\b[\s\S]{0,256}?\b(?:sess(?:ion)?[-_]?id|phpsessid|jsessionid|aspsessionid\w{0,16}|asp\.net_sessionid|sid)\s*=|http-equiv\s*=\s*['"]?\s*set-cookie|(?:^|\n)[ \t]{0,16}set-cookie[ \t]{0,16}:/,
  }),
  rule({
    id: "943120",
    category: "session-fixation",
    paranoia: 1,
    severity: "critical",
    // Session fixation: a session identifier passed as a request parameter
    on: ["names"],
    t: T.normal,
    any: "",
    needs: ["sess", "cfid", "cftoken"],
    // The session cookies of server frameworks; an API's own "session_id" field is ordinary JSON.
    re: /^(?:phpsessid|jsessionid|aspsessionid[a-z]{0,16}|asp\.net_sessionid|cfid|cftoken)$/,
  }),
];
