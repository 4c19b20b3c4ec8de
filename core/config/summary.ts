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
    // A route has one or more match blocks (OR); each prints as host+path, joined by " | ".
    const blocks = r.match.map((m) => {
      const hosts = m.host === undefined ? "*" : [m.host].flat().join(",");
      const p = m.path;
      const path =
        p?.exact ?? p?.template ?? (p?.regex !== undefined ? `~${p.regex}` : `${p?.prefix ?? "/"}…`);
      return `${hosts}${path}`;
    });
    const target =
      r.service ??
      (r.split
        ? r.split.map((s) => `${s.service}:${s.weight}`).join("+")
        : r.redirect
          ? "redirect"
          : "respond");
    lines.push(`  ${r.name}: ${blocks.join(" | ")} → ${target}`);
  }
  lines.push(`listeners (${config.listeners.length})`);
  for (const l of config.listeners) lines.push(`  ${l.name}: ${l.protocol} ${l.listen} → ${l.service}`);
  return lines.join("\n");
}
