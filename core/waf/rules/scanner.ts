// 913: security scanners and attack tools, by User-Agent.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the patterns describe literal ${…} payloads.
import { T } from "../pipelines.ts";
import { type ManagedRule, rule } from "./types.ts";

export const SCANNERS_RULES: readonly ManagedRule[] = [
  rule({
    id: "913100",
    category: "scanner",
    paranoia: 1,
    severity: "critical",
    // User-Agent of a security scanner
    on: ["ua"],
    t: T.normal,
    any: "",
    re: /\b(?:sqlmap|nikto|nmap|masscan|acunetix|netsparker|nessus|openvas|wpscan|dirbuster|gobuster|feroxbuster|ffuf|wfuzz|zgrab|nuclei|w3af|havij|arachni|jaeles|whatweb|skipfish|zmeu|morfeus|commix|xsstrike|burpsuite|burpcollaborator|appscan|webinspect|fimap|paros|sqlninja|pangolin|bsqlbf|grabber|mysqloit|nstealth|dirb|jorgee|nmap scripting engine|masscan-ng|hydra|fuzz faster u fool|nikto|dirsearch|httpx|interactsh|xray|sqlmap|brutus|webshag|uniscan|vega|wapiti|joomscan|droopescan|cmsmap|bbqsql)\b/,
  }),
];
