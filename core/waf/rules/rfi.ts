// 931: remote file inclusion: a URL in a parameter that points at an IP address, carries a trailing "?" (to cut
// off the suffix the application appends), or is passed to a parameter named for inclusion.
import { T } from "../pipelines.ts";
import { type ManagedRule, rule } from "./types.ts";

export const RFI_RULES: readonly ManagedRule[] = [
  rule({
    id: "931100",
    category: "rfi",
    paranoia: 1,
    severity: "critical",
    // URL with an IP address as its host in a parameter (remote file inclusion)
    on: ["values"],
    t: T.normal,
    any: ":",
    needs: ["://"],
    re: /^\s*(?:https?|ftps?|php|file|smb|dav|webdavs?):\/\/(?:[^/@\s]{0,64}@)?(?:\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[[0-9a-f:.]{2,45}\]|0x[0-9a-f]{8}|\d{8,10})(?::\d{1,5})?(?:[/?#]|$)/,
  }),
  rule({
    id: "931110",
    category: "rfi",
    paranoia: 1,
    severity: "critical",
    // URL in a parameter whose name asks for a file to include (include=, page=, file=, template=)
    on: ["values"],
    t: T.normal,
    any: ":",
    needs: ["://"],
    re: /^\s*(?:https?|ftps?):\/\/[^\s]{1,2048}\.(?:php\d?|phtml|txt|inc|sh|pl|py|jsp|asp)\??$/,
  }),
  rule({
    id: "931120",
    category: "rfi",
    paranoia: 1,
    severity: "critical",
    // URL in a parameter ending in ? or # (the application's own suffix cut off)
    on: ["values"],
    t: T.normal,
    any: ":",
    needs: ["://"],
    re: /^\s*(?:https?|ftps?|php|file|smb|dav):\/\/[^\s?#]{1,2048}(?:\?{1,4}|#)\s*$|^\s*(?:https?|ftps?):\/\/[^\s]{1,2048}%00/,
  }),
];
