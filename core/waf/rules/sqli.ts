// 942: SQL injection.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the patterns describe literal ${…} payloads.
import { detectSqli, detectSqliLoose, SQL_TRIGGERS } from "../detect/sql.ts";
import { withUrlParams } from "../detect/url-values.ts";
import { T } from "../pipelines.ts";
import { INPUT, INPUT_PATH, type ManagedRule, rule } from "./types.ts";

export const SQLI_RULES: readonly ManagedRule[] = [
  rule({
    id: "942101",
    category: "sqli",
    paranoia: 2,
    severity: "critical",
    // SQL injection by token fingerprint, looser shapes (a closed string or number, then any operator)
    on: [...INPUT_PATH, "referer", "ua"],
    t: T.normal,
    any: "",
    words: SQL_TRIGGERS,
    detect: withUrlParams(detectSqliLoose),
  }),
  rule({
    id: "942100",
    category: "sqli",
    paranoia: 1,
    severity: "critical",
    // SQL injection by token fingerprint, read in each quote context (none, ', ", `)
    on: [...INPUT_PATH, "referer", "ua"],
    t: T.normal,
    // No telling character: "1 order by 3" has none; the tokenizer reads at most 16 tokens.
    any: "",
    words: SQL_TRIGGERS,
    detect: withUrlParams(detectSqli),
  }),
  rule({
    id: "942120",
    category: "sqli",
    paranoia: 1,
    severity: "critical",
    // UNION-based SQL injection (UNION [ALL] SELECT …)
    on: INPUT_PATH,
    t: T.sql,
    any: "",
    needs: ["union"],
    re: /\bunion\b(?:\s+(?:all|distinct))?\s*\(?\s*select\b\s*(?:\*|null\b|-?\d|@|['"`(]|[\w.`]+\s*(?:,|\(|\bfrom\b)|(?:concat|char|version|user|database|group_concat|table_name|column_name|username|password)\b|$)/,
  }),
  rule({
    id: "942130",
    category: "sqli",
    paranoia: 1,
    severity: "critical",
    // Stacked SQL query (; DROP TABLE, ; EXEC xp_cmdshell, ; SHUTDOWN)
    on: INPUT,
    t: T.sql,
    any: ";",
    re: /;\s*(?:drop\s+(?:table|database|schema|user)|truncate\s+table|alter\s+(?:table|user)|create\s+(?:table|user|function|procedure)|insert\s+into|update\s+[\w.`[\]]+\s+set|delete\s+from|exec(?:ute)?\s+[\w.]+|declare\s+@|shutdown\b|grant\s+\w|select\s+(?:\*|pg_sleep|sleep|benchmark|\d|@@|null|[\w.]+\s*(?:,|\(|\bfrom\b)))/,
  }),
  rule({
    id: "942140",
    category: "sqli",
    paranoia: 1,
    severity: "critical",
    // SQL catalog, system variable or system procedure
    on: INPUT_PATH,
    t: T.sql,
    // sysobjects and syscolumns have none of "_.@": the words decide.
    any: "",
    needs: [
      "information_schema",
      "mysql.",
      "pg_",
      "sys",
      "sqlite_",
      "_tables",
      "xp_",
      "sp_",
      "master",
      "dbms_",
      "@@",
    ],
    re: /\b(?:information_schema|mysql\.(?:user|db)|pg_catalog|pg_shadow|pg_user|sysobjects|syscolumns|sys\.(?:databases|objects|tables)|sqlite_master|sqlite_schema|all_tables|user_tables|xp_cmdshell|sp_executesql|sp_oacreate|master\.\.sysdatabases|dbms_pipe)\b|@@(?:version|datadir|hostname|basedir|servername)\b/,
  }),
  rule({
    id: "942150",
    category: "sqli",
    paranoia: 1,
    severity: "critical",
    // Time-based blind SQL injection (SLEEP, BENCHMARK, PG_SLEEP, WAITFOR DELAY)
    on: INPUT_PATH,
    t: T.sql,
    // A call, or WAITFOR DELAY with its quoted time.
    any: "('\"",
    needs: ["sleep", "benchmark", "randomblob", "waitfor"],
    re: /\b(?:sleep|pg_sleep|dbms_lock\.sleep)\s*\(\s*(?:\d+(?:\.\d+)?|\(\s*select\b[^)]{0,256}\)?)\s*\)|\bbenchmark\s*\(\s*\d+\s*,|\brandomblob\s*\(\s*\d|\bwaitfor\s+(?:delay|time)\s+['"]/,
  }),
  rule({
    id: "942160",
    category: "sqli",
    paranoia: 1,
    severity: "critical",
    // Error-based or file SQL functions (EXTRACTVALUE, UPDATEXML, LOAD_FILE, INTO OUTFILE)
    on: INPUT_PATH,
    t: T.sql,
    // A call, or INTO OUTFILE (no parenthesis): the words decide.
    any: "",
    needs: [
      "extractvalue",
      "updatexml",
      "load_file",
      "geometrycollection",
      "multipoint",
      "polygon",
      "linestring",
      "exp",
      "utl_inaddr",
      "ctxsys",
      "convert",
      "cast",
      "into",
    ],
    re: /\b(?:extractvalue|updatexml|load_file|geometrycollection|multipoint|polygon|linestring|exp\s*\(\s*~|utl_inaddr\.get_host_name|ctxsys\.drithsx\.sn|convert\s*\(\s*int\s*,|cast\s*\(\s*(?:@@|\(\s*select|version\s*\())\s*\(?|\binto\s+(?:out|dump)file\b/,
  }),
  rule({
    id: "942170",
    category: "sqli",
    paranoia: 1,
    severity: "critical",
    // Quote followed by a SQL comment, or ORDER/GROUP BY probing
    on: INPUT_PATH,
    t: T.normal,
    any: "'\"`",
    needs: ["--", "#", "/*", "order", "group", "having", "procedure", "limit"],
    re: /['"`]\s*\)*\s*(?:--|#|\/\*|;\s*--)\s*$|['"`)]\s*(?:order|group)\s+by\b[^'"]{0,80}?(?:--|#|\/\*|$)|['"`)]\s*(?:having|procedure\s+analyse|limit\s+\d+\s*,\s*\d+\s*(?:--|#))/,
  }),
  rule({
    id: "942180",
    category: "sqli",
    paranoia: 1,
    severity: "critical",
    // Subquery SELECT … FROM or SELECT function after a quote or operator
    on: INPUT,
    t: T.sql,
    any: "",
    // After an operator or a parenthesis, not after a bare quote: "'select count(*)' is slow" is prose.
    needs: ["select"],
    re: /(?:[(=]|\|\||\b(?:or|and|union|rlike|regexp|like|in)\s)\s*\(?\s*select\s+\(?\s*(?:\*|[\w@.()`,\s]{1,80}?\bfrom\b|(?:sleep|pg_sleep|benchmark|user|version|database|current_user|@@\w+|concat|char|count|case\s+when)\b)/,
  }),
  rule({
    id: "942181",
    category: "sqli",
    paranoia: 2,
    severity: "error",
    // A whole SQL query as a value (SELECT … FROM … WHERE), as a raw-query parameter carries it
    on: INPUT,
    t: T.sql,
    any: "",
    needs: ["select"],
    re: /^\s*select\s+[\w*,\s@.()`]{1,80}?\bfrom\s+[\w.`]+(?:\s+where\b|\s*;|\s*$)/,
  }),
  rule({
    id: "942190",
    category: "sqli",
    paranoia: 2,
    severity: "error",
    // SQL hex or CHAR() encoding
    on: INPUT,
    t: T.sql,
    any: "(0",
    re: /\b(?:char|chr|nchar)\s*\(\s*\d+\s*(?:,\s*\d+\s*)+\)|\b0x[0-9a-f]{8,}\b/,
  }),
  rule({
    id: "942200",
    category: "sqli",
    paranoia: 2,
    severity: "error",
    // Lone quote followed by SQL keyword
    on: INPUT,
    t: T.sql,
    any: "'\"",
    needs: ["union", "select", "insert", "update", "delete", "drop", "exec", "declare"],
    re: /['"]\s*(?:union|select|insert|update|delete|drop|exec|declare)\b/,
  }),
  rule({
    id: "942210",
    category: "sqli",
    paranoia: 3,
    severity: "warning",
    // SQL statement keywords in sequence (select … from, insert … into, update … set)
    on: INPUT,
    t: T.sql,
    any: "",
    needs: ["select", "insert", "update", "delete", "drop", "union", "alter", "exec"],
    re: /\b(?:select|union|insert|update|delete|drop|alter|exec)\b[\s\S]{0,60}?\b(?:from|into|table|where|set|values)\b/,
  }),
  rule({
    id: "942460",
    category: "sqli",
    paranoia: 4,
    severity: "warning",
    // Four or more non-word characters in a row
    on: INPUT,
    t: T.normal,
    any: "",
    re: /[^\w\s]{4,}/,
  }),
];
