// 932: remote command execution: Unix and Windows shells, PowerShell, Shellshock.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the patterns describe literal ${…} payloads.
import { detectCommandLoose, detectUnixCommand, detectWindowsCommand } from "../detect/shell.ts";
import { withUrlParams } from "../detect/url-values.ts";
import { T } from "../pipelines.ts";
import { EVERYWHERE, INPUT, type ManagedRule, rule } from "./types.ts";

/**
 * What the shell detectors need to find command position at all: a separator, a substitution, a brace or
 * subshell, an expansion or a URL (detect/shell.ts reads a value without any of them as no command).
 */
const SHELL_TRIGGERS = ";|&\n`{($:";

export const RCE_RULES: readonly ManagedRule[] = [
  rule({
    id: "932101",
    category: "rce",
    paranoia: 2,
    severity: "critical",
    // Any known command word after a shell separator, whatever its arguments (;cat notes)
    on: [...INPUT, "referer", "ua"],
    t: T.normal,
    any: SHELL_TRIGGERS,
    detect: withUrlParams(detectCommandLoose),
  }),
  rule({
    id: "932100",
    category: "rce",
    paranoia: 1,
    severity: "critical",
    // Unix command in command position (after ; | & a newline, in $(…), backticks or {a,b})
    on: [...INPUT, "referer", "ua"],
    t: T.normal,
    any: SHELL_TRIGGERS,
    detect: withUrlParams(detectUnixCommand),
  }),
  rule({
    id: "932105",
    category: "rce",
    paranoia: 1,
    severity: "critical",
    // Shell evasion: $IFS as a space, a glob standing for a command path (/???/c?t), $(…) substitution
    on: INPUT,
    t: T.normal,
    any: "$?*",
    needs: ["ifs", "/?", "?/", "/*", "*/"],
    re: /\$\{?ifs\b|(?:^|[\s;|&`(])\/[?*[\]a-z]{0,8}[?*][?*[\]a-z]{0,8}\/[?*[\]a-z/]{1,32}/,
  }),
  rule({
    id: "932110",
    category: "rce",
    paranoia: 1,
    severity: "critical",
    // Windows command (cmd.exe or PowerShell) in command position
    on: [...INPUT, "referer", "ua"],
    t: T.normal,
    any: SHELL_TRIGGERS,
    detect: withUrlParams(detectWindowsCommand),
  }),
  rule({
    id: "932120",
    category: "rce",
    paranoia: 1,
    severity: "critical",
    // PowerShell or cmd.exe invocation anywhere (-EncodedCommand, IEX, DownloadString, cmd /c)
    on: INPUT,
    t: T.cmd,
    any: "-/(.",
    needs: ["powershell", "pwsh", "iex", "invoke-", "download", "frombase64", "cmd", "net.webclient"],
    re: /\b(?:powershell|pwsh)(?:\.exe)?\s+(?:-[a-z]+\b|\/c\b)|\biex\s*\(|\binvoke-(?:expression|webrequest|restmethod|command)\b|\.download(?:string|file|data)\s*\(|\[(?:system\.)?convert\]::frombase64string|new-object\s+(?:system\.)?net\.webclient|\bcmd(?:\.exe)?\s*\/[ckr]\s/,
  }),
  rule({
    id: "932160",
    category: "rce",
    paranoia: 1,
    severity: "critical",
    // Shell or reverse-shell idiom (/bin/sh, /dev/tcp/, nc -e)
    on: INPUT,
    t: T.cmd,
    any: "/-",
    needs: ["/bin/", "/dev/", "nc ", "ncat", "netcat", "mkfifo", "python", "perl", "bash"],
    // A shell path run (after a separator or a command, or with options), not a setting that names one.
    re: /(?:[;|&`(]\s*|\s)\/bin\/(?:ba|z|k|c|tc|da)?sh\b|\/bin\/(?:ba|z|k|c|tc|da)?sh\s+-[a-z]|\/dev\/(?:tcp|udp)\/|\b(?:nc|ncat|netcat)\s+(?:-\w+\s+)*(?:-e|-c)\s|\bmkfifo\s+\/tmp\/|\bpython[23]?\s+-c\s|\bperl\s+-e\s|\bbash\s+-[ic]\b/,
  }),
  rule({
    id: "932170",
    category: "shellshock",
    paranoia: 1,
    severity: "critical",
    // Shellshock (CVE-2014-6271): a function definition () { at the start of a value
    on: EVERYWHERE,
    t: T.normal,
    any: "(",
    re: /^\s*\(\s*\)\s*\{/,
  }),
  rule({
    id: "932200",
    category: "rce",
    paranoia: 3,
    severity: "warning",
    // Shell metacharacters before a word (; cmd, | cmd, `…`, $(…))
    on: INPUT,
    t: T.cmd,
    any: ";|`$",
    re: /`[^`]*`|\$\(|[;|]\s*[a-z]/,
  }),
];
