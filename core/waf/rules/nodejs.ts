// 934: Node.js injection and JavaScript prototype pollution.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the patterns describe literal ${…} payloads.
import { T } from "../pipelines.ts";
import { INPUT, type ManagedRule, rule } from "./types.ts";

export const NODEJS_RULES: readonly ManagedRule[] = [
  rule({
    id: "934100",
    category: "nodejs",
    paranoia: 1,
    severity: "critical",
    // Node.js code execution (child_process, process.mainModule, constructor chains)
    on: INPUT,
    t: T.normal,
    any: "(._",
    needs: ["child_process", "require", "process", "constructor", "function", "_$$nd_func", "global"],
    re: /\bchild_process\b|\brequire\s*\(\s*['"`](?:child_process|fs|net|vm|os|http)['"`]|\bprocess\s*\.\s*(?:mainmodule|binding|dlopen|kill|exit)\b|\bprocess\.env\b|\.constructor\s*\.\s*constructor\b|constructor\s*\(\s*['"`]return\b|\bnew\s+function\s*\(\s*['"`]|_\$\$nd_func\$\$_|\bglobal\s*\.\s*process\b|\bthis\.constructor\b/,
  }),
  rule({
    id: "934130",
    category: "nodejs",
    paranoia: 1,
    severity: "critical",
    // JavaScript prototype pollution (__proto__, constructor.prototype)
    on: INPUT,
    t: T.normal,
    any: "_.[",
    needs: ["__proto__", "prototype"],
    re: /__proto__|\bconstructor\s*(?:\.|\]?\s*\[\s*['"]?)\s*prototype\b/,
  }),
  rule({
    id: "934110",
    category: "nodejs",
    paranoia: 1,
    severity: "critical",
    // Server-side request forgery to a cloud metadata endpoint or loopback spelled as a number
    on: INPUT,
    t: T.normal,
    any: ".:",
    needs: [
      "169.254.169.254",
      "metadata.google",
      "100.100.100.200",
      "fd00:ec2",
      "a9fe:a9fe",
      "2852039166",
      "0xa9fea9fe",
      "metadata.azure",
      "0x7f",
      "2130706433",
      "0177.0",
    ],
    re: /169\.254\.169\.254|metadata\.google\.internal|100\.100\.100\.200|\[?fd00:ec2::254|a9fe:a9fe|\b2852039166\b|0xa9fea9fe|metadata\.azure\.com|:\/\/(?:0x7f[0-9a-f]{6}|2130706433|0177\.0{1,4}\.0{1,4}\.0{0,3}1)\b/,
  }),
];
