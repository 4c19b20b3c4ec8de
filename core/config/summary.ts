// A one-screen, human summary of a valid config, for `switchyard check`.
import { formatHostPort, parseHostPort } from "./address.ts";
import { type Config, serviceKind } from "./schema/index.ts";

export function summarizeConfig(config: Config): string {
  const lines: string[] = [];
  lines.push(`services (${config.services.length})`);
  for (const s of config.services) {
    const targets = s.backends.map(
      (b) =>
        `${b.url ?? formatHostPort(parseHostPort(b.address!)!)}${b.weight !== 1 ? ` w=${b.weight}` : ""}`,
    );
    lines.push(`  ${s.name} [${serviceKind(s)}, ${s.balance}] → ${targets.join(", ")}`);
  }
  lines.push(`routes (${config.routes.length})`);
  for (const r of config.routes) {
    const hosts = r.match.host === undefined ? "*" : [r.match.host].flat().join(",");
    const path =
      r.match.path?.exact ?? (r.match.path?.prefix !== undefined ? `${r.match.path.prefix}…` : "/…");
    lines.push(`  ${r.name}: ${hosts}${path} → ${r.service}`);
  }
  lines.push(`listeners (${config.listeners.length})`);
  for (const l of config.listeners) lines.push(`  ${l.name}: ${l.protocol} ${l.listen} → ${l.service}`);
  return lines.join("\n");
}
