// 944: Java: Log4Shell lookups, class names, OGNL/SpEL/EL expressions, serialized objects.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the patterns describe literal ${…} payloads.
import { keywordInside } from "../detect/inside.ts";
import { T } from "../pipelines.ts";
import { EVERYWHERE, type ManagedRule, rule } from "./types.ts";

/** OGNL that needs no surrounding expression: access-control overrides, context maps, static calls. */
const OGNL_DIRECT =
  /#_?memberaccess|#context\s*\[|#(?:request|session|application|parameters|attr)\s*\.|@(?:java\.lang|ognl)[\w.]{0,64}@|\bt\s*\(\s*java\./;
const directHit = (text: string) => {
  const m = OGNL_DIRECT.exec(text)!;
  return { at: m.index, end: m.index + m[0].length };
};
/** Inside ${…}, #{…} or %{…} (EL, SpEL, OGNL): reflection, class loading, the runtime, or an assignment. */
const EXPRESSION_WORDS =
  /getclass\s*\(|classloader|\.forname\s*\(|getruntime\s*\(|processbuilder|new\s+java\.|\bt\s*\(|@java|#\w{1,32}\s*=(?!=)|scriptenginemanager|\.exec\s*\(/g;

export const JAVA_RULES: readonly ManagedRule[] = [
  rule({
    id: "944150",
    category: "log4shell",
    paranoia: 1,
    severity: "critical",
    // Log4Shell (CVE-2021-44228): ${jndi:…} and its obfuscated forms
    on: EVERYWHERE,
    t: T.normal,
    any: "$",
    needs: ["${"],
    // Every obfuscation nests a lookup (${lower:j}, ${::-j}, ${env:X:-j}) or starts with jndi: itself.
    re: /\$\{\s*(?:jndi\s*:|(?:lower|upper|env|sys|date|java|base64|main|ctx|marker|bundle|sd|web|docker|k8s|spring|log4j|event)\s*:|::-|\$\{)|\$\{[a-z]{0,4}\$\{/,
  }),
  rule({
    id: "944100",
    category: "rce",
    paranoia: 1,
    severity: "critical",
    // Java deserialization or class-loading gadget
    on: EVERYWHERE,
    t: T.normal,
    any: ".",
    needs: ["java", "class.module", "getruntime"],
    re: /\bjava\.lang\.(?:runtime|processbuilder|reflect)\b|\bclass\.module\.classloader\b|\bjavax\.script\.scriptenginemanager\b|\bgetruntime\s*\(\s*\)\s*\.\s*exec\b/,
  }),
  rule({
    id: "944110",
    category: "java",
    paranoia: 1,
    severity: "critical",
    // OGNL, SpEL or EL expression reaching Java classes or the runtime (%{…}, ${T(…)}, #{…}, #_memberAccess)
    on: EVERYWHERE,
    t: T.normal,
    any: "#@(",
    // The openers the detector's expression words must follow (${ too: "${#x=…}" is an assignment), and the
    // words it finds without one.
    needs: [
      "${",
      "#_memberaccess",
      "#context",
      "@java",
      "@ognl",
      "t(",
      "getclass",
      "classloader",
      "#request",
      "#{",
      "%{",
      "#application",
      ".forname(",
      "getruntime",
      "processbuilder",
      "new java.",
    ],
    detect: (text) =>
      OGNL_DIRECT.test(text) ? directHit(text) : keywordInside(text, EXPRESSION_WORDS, ["${", "#{", "%{"]),
  }),
  rule({
    id: "944120",
    category: "java",
    paranoia: 1,
    severity: "critical",
    // Java serialized object (base64 rO0AB…, hex ACED0005) in input
    on: ["path", "names", "values", "cookies", "headers"],
    t: T.none,
    any: "",
    needs: ["rO0AB", "aced0005", "ACED0005", "H4sIAAAAAAAA"],
    // Base64 is case-sensitive, so the raw value is read (the markers are letters and digits, never escaped).
    re: /rO0AB[A-Za-z0-9+/]{4}|\b(?:aced|ACED)0005|H4sIAAAAAAAA[A-Za-z0-9+/]{0,8}(?:rO0|KzAA)/,
  }),
  rule({
    id: "944130",
    category: "java",
    paranoia: 1,
    severity: "critical",
    // Java gadget or dangerous class name (commons-collections, JdbcRowSetImpl, TemplatesImpl, ScriptEngine,
    // …)
    on: EVERYWHERE,
    t: T.normal,
    any: ".",
    needs: [
      "org.apache",
      "com.sun",
      "javax.",
      "java.",
      "org.springframework",
      "ysoserial",
      "groovy.",
      "bsh.",
      "com.mchange",
      "org.codehaus",
    ],
    re: /\b(?:org\.apache\.commons\.(?:collections\d?|beanutils)\.|com\.sun\.(?:rowset\.jdbcrowsetimpl|org\.apache\.xalan\.internal\.xsltc\.trax\.templatesimpl|jndi\.)|javax\.(?:naming\.initialcontext|management\.|script\.)|java\.(?:net\.urlclassloader|rmi\.|beans\.(?:xmldecoder|expression))|org\.springframework\.(?:beans\.factory\.|context\.support\.classpathxml)|ysoserial|groovy\.lang\.|bsh\.interpreter|com\.mchange\.v2\.c3p0|org\.codehaus\.groovy\.runtime)/,
  }),
];
