// 933: PHP injection: open tags, functions, variable functions, wrappers, serialized objects, directives.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the patterns describe literal ${…} payloads.
import { T } from "../pipelines.ts";
import { INPUT, INPUT_PATH, type ManagedRule, rule } from "./types.ts";

export const PHP_RULES: readonly ManagedRule[] = [
  rule({
    id: "933100",
    category: "php",
    paranoia: 1,
    severity: "critical",
    // PHP open tag
    on: INPUT_PATH,
    t: T.normal,
    any: "<",
    needs: ["<?"],
    re: /<\?(?:php\b|=|\s)|\[\?php\b|<script\s+language\s*=\s*['"]?php/,
  }),
  rule({
    id: "933150",
    category: "php",
    paranoia: 1,
    severity: "critical",
    // High-risk PHP function call
    on: INPUT,
    t: T.sql,
    any: "(",
    // Not a method (regex.exec(…), obj.eval(…)); PHP allows a comment between the name and "(". "system" and
    // "exec" are English too: with a space before "(" they count only where code starts ("the system (v2)").
    re: /(?<![\w.$>])(?:eval|assert|shell_exec|passthru|popen|proc_open|pcntl_exec|base64_decode|gzinflate|gzuncompress|str_rot13|create_function|call_user_func(?:_array)?|file_put_contents|file_get_contents|phpinfo|preg_replace|move_uploaded_file|fsockopen|highlight_file|show_source)\s*(?:(?:#|\/\/)[^\n]{0,256}\n\s*)?\(|(?:^|[;@({}=]\s*)(?:system|exec)\s*(?:(?:#|\/\/)[^\n]{0,256}\n\s*)?\(|(?<![\w.$>])(?:system|exec)\(|\b(?:include|require)(?:_once)?\s*\(\s*['"$]|\(\s*['"]?(?:system|exec|passthru|shell_exec|assert|eval|popen)['"]?\s*\)\s*\(/,
  }),
  rule({
    id: "933130",
    category: "php",
    paranoia: 1,
    severity: "critical",
    // PHP superglobal or configuration directive in input
    on: INPUT,
    t: T.normal,
    any: "$_={",
    needs: ["$", "allow_url", "auto_", "disable_functions", "open_basedir", "safe_mode"],
    re: /\$_(?:get|post|request|cookie|server|files|env|session)\b|\$globals\b|\$\{\s*@?\s*(?:print|eval|system|assert|phpinfo|passthru|exec|echo|die|include)\b|\b(?:allow_url_include|auto_prepend_file|auto_append_file|disable_functions|open_basedir|safe_mode)\s*=/,
  }),
  rule({
    id: "933170",
    category: "php",
    paranoia: 1,
    severity: "critical",
    // PHP serialized object (object injection)
    on: INPUT,
    t: T.normal,
    any: ":",
    needs: [":{"],
    re: /\b[oc]:\d+:"[\w\\]+":\d+:\{/i,
  }),
  rule({
    id: "933160",
    category: "php",
    paranoia: 1,
    severity: "critical",
    // PHP function call built at run time: variable functions ($f($x)), string concatenation, backticks
    on: INPUT,
    t: T.sql,
    any: "$(",
    needs: ["$", '")', "')"],
    re: /\$\{?_?\w{1,64}\}?(?:\s*\[[^\]]{0,64}\]){0,3}\s*\(\s*(?:\$|['"][\w\s-]{0,64}['"]\s*\))|\(\s*['"]\w{1,32}['"]\s*\.\s*['"]\w{1,32}['"][^)]{0,64}\)\s*\(|\$\$\w{1,64}\s*[=(]/,
  }),
  rule({
    id: "933120",
    category: "php",
    paranoia: 1,
    severity: "critical",
    // PHP code-execution or file function called with a variable, string or nested call
    on: INPUT,
    t: T.sql,
    any: "(",
    needs: [
      "system",
      "exec",
      "passthru",
      "popen",
      "assert",
      "include",
      "require",
      "readfile",
      "fopen",
      "unlink",
      "fwrite",
      "ini_set",
      "putenv",
      "array_map",
      "usort",
      "mail",
      "symlink",
      "curl_exec",
      "file(",
    ],
    re: /\b(?:system|exec|passthru|popen|assert|include|require|include_once|require_once|readfile|fopen|unlink|fwrite|ini_set|putenv|array_map|usort|uasort|array_filter|symlink|curl_exec|file|mb_ereg_replace|register_shutdown_function|ob_start)\s*\(\s*(?:\$|['"`][^'"`]{0,256}['"`]\s*[,)]|(?:base64_decode|str_rot13|gzinflate|hex2bin|chr|strrev)\s*\()/,
  }),
];
