// 930: path traversal, local file inclusion, restricted files and stream wrappers.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the patterns describe literal ${…} payloads.
import { T } from "../pipelines.ts";
import { INPUT_PATH, type ManagedRule, rule } from "./types.ts";

/** Files an attacker reads to prove a traversal or inclusion worked, on Unix and Windows servers. */
const OS_FILE =
  /(?:\/etc\/(?:passwd|shadow|group|gshadow|hosts|hostname|issue|motd|crontab|sudoers|fstab|mtab|resolv\.conf|environment|profile|bashrc|inittab|network\/interfaces|ssh\/|mysql\/|nginx\/|apache2?\/|httpd\/|php\d?\/|os-release|security\/)|\/proc\/(?:self|\d+)\/(?:environ|cmdline|fd\/|maps|status|mounts|cwd)|\/proc\/version|\/var\/log\/|\/var\/mail\/|\/root\/|\/home\/[\w.-]{1,32}\/\.|c:[\\/](?:windows|winnt|boot\.ini|inetpub)|\bwin\.ini\b|\bsystem\.ini\b|\bboot\.ini\b|[\\/]system32[\\/]|[\\/]repair[\\/]sam\b|\/\.bash_history|\/\.(?:bashrc|profile|zsh_history|mysql_history|git-credentials|netrc|pgpass)\b|\/\.ssh\/(?:id_|authorized_keys|known_hosts)|web-inf\/web\.xml|\/usr\/local\/(?:etc|apache)|\/opt\/lampp\/)/;

function lastWordStart(text: string): number {
  for (let i = text.length - 1; i >= 0; i--) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 10 || c === 9) return i + 1;
  }
  return 0;
}

export const LFI_RULES: readonly ManagedRule[] = [
  rule({
    id: "930100",
    category: "lfi",
    paranoia: 1,
    severity: "critical",
    // Path traversal, encoded (%2e%2e%2f, ..%5c, %c0%ae and doubly encoded forms)
    on: INPUT_PATH,
    t: T.none,
    any: "%",
    // Overlong UTF-8 and doubly encoded dots never occur in ordinary input; plain %2e%2e%2f must appear twice.
    needs: ["%2e", "%2E", "%25", "%c0", "%C0", "%c1", "%C1", "%e0", "%E0", "%u", "%U", "..%", "..\\", "../"],
    re: /%(?:25)+2e%(?:25)+2e|%c0%ae|%e0%80%ae|%c0%af|%c1%9c|%u002e|%u2215|%u2216|(?:(?:%2e|\.){2}(?:%2f|%5c)|%2e%2e[\\/])[\s\S]{0,512}?(?:%2e|\.){2}(?:%2f|%5c|\/|\\)/i,
  }),
  rule({
    id: "930110",
    category: "lfi",
    paranoia: 1,
    severity: "critical",
    // Path traversal (../ or ..\)
    on: INPUT_PATH,
    t: T.path,
    any: "./\\",
    // Two steps up: one "../" alone is common in prose; a single step to a known file is 930120's job.
    needs: [".."],
    re: /\.\.[\\/][\s\S]{0,512}?\.\.(?:[\\/]|$)/,
  }),
  rule({
    id: "930120",
    category: "lfi",
    paranoia: 1,
    severity: "critical",
    // The file must end the value (no words after it): "/etc/hosts file format" is a question, not an attack.
    // Access to an operating-system file
    on: INPUT_PATH,
    t: T.path,
    any: "/\\.",
    needs: [
      "/etc/",
      "/proc/",
      "/var/log",
      "/root/",
      "c:",
      "win.ini",
      "boot.ini",
      "system32",
      ".bash_history",
      ".ssh/",
      "web-inf",
      "/home/",
      "system.ini",
      "/repair",
      "/.",
      "/usr/local",
      "/opt/",
    ],
    detect: (text) => {
      // Only the value's last word: a path followed by more words is prose.
      const from = lastWordStart(text);
      const m = OS_FILE.exec(from === 0 ? text : text.slice(from));
      return m ? { at: from + m.index, end: from + m.index + m[0].length } : undefined;
    },
  }),
  rule({
    id: "930130",
    category: "restricted-files",
    paranoia: 1,
    severity: "critical",
    // Request for a restricted file (.env, .git, .htaccess, keys, backups)
    on: ["path"],
    t: T.path,
    any: "",
    re: /\/\.(?:git|svn|hg|bzr|aws|ssh|idea|docker|kube)(?:\/|$)|\/(?:\.env(?:\.[\w-]+)?|\.gitconfig|\.git-credentials|\.htaccess|\.htpasswd|\.ds_store|\.npmrc|\.pypirc|\.bash_history|\.vscode\/sftp\.json|id_[rd]sa(?:\.pub)?|wp-config\.php(?:\.\w+|~)|config\.(?:php|inc|ya?ml)\.(?:bak|old|orig|save|swp)|[\w-]+\.(?:sql|bak|old|swp)(?:\.gz|\.zip)?|web\.config|\.user\.ini|php\.ini|server-status|phpinfo\.php)$/,
  }),
  rule({
    id: "930140",
    category: "lfi",
    paranoia: 1,
    severity: "critical",
    // Stream wrapper in input (php://, file://, expect://, phar://, zip://, data://)
    on: INPUT_PATH,
    t: T.path,
    any: ":",
    needs: ["://"],
    re: /\b(?:php|file|expect|phar|zip|data|glob|ogg|rar|zlib|compress\.zlib|jar|netdoc|gopher|dict):\/\//,
  }),
];
