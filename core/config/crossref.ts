// Checks that span sections: names are unique, routes and listeners point at services of the right kind, no
// two listeners share an address. They read the raw document defensively so that they still report alongside
// shape errors: a user with three mistakes sees all three at once.
import { parseHostPort } from "./address.ts";
import type { ConfigProblem } from "./errors.ts";
import { wafCrossReferenceProblems } from "./schema/waf.ts";

type Raw = Record<string, unknown>;
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): Raw => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Raw) : {});
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

export function crossReferenceProblems(raw: unknown): ConfigProblem[] {
  const doc = obj(raw);
  const problems: ConfigProblem[] = [];
  const services = list(doc.services).map(obj);

  const kinds = new Map<string, "http" | "tcp" | "mixed">();
  services.forEach((s, i) => {
    const backends = list(s.backends).map(obj);
    const hasUrl = backends.some((b) => b.url !== undefined);
    const hasAddress = backends.some((b) => b.address !== undefined);
    const kind = hasUrl && hasAddress ? "mixed" : hasAddress ? "tcp" : "http";
    if (kind === "mixed") {
      problems.push({
        path: `services[${i}].backends`,
        message:
          'mixes "url" and "address" backends; a service is either HTTP (all url) or TCP (all address)',
      });
    }
    const n = str(s.name);
    if (n !== undefined && !kinds.has(n)) kinds.set(n, kind);
  });
  const serviceNames = [...kinds.keys()];

  duplicates(services, "services", "service", problems);
  duplicates(list(doc.routes).map(obj), "routes", "route", problems);
  duplicates(list(doc.listeners).map(obj), "listeners", "listener", problems);

  const checkService = (section: string, i: number, ref: unknown, want: "http" | "tcp") => {
    const n = str(ref);
    if (n === undefined) return;
    const kind = kinds.get(n);
    const path = `${section}[${i}].service`;
    if (kind === undefined) {
      problems.push({
        path,
        message: `no service named "${n}" (services: ${serviceNames.length ? serviceNames.join(", ") : "none defined"})`,
      });
    } else if (kind !== "mixed" && kind !== want) {
      problems.push({
        path,
        message:
          want === "http"
            ? `service "${n}" has TCP backends (address); a route needs a service with HTTP backends (url)`
            : `service "${n}" has HTTP backends (url); a listener needs a service with TCP backends (address)`,
      });
    }
  };
  for (const [i, r] of list(doc.routes).map(obj).entries()) {
    checkService("routes", i, r.service, "http");
    for (const [j, part] of list(r.split).map(obj).entries())
      checkService(`routes[${i}].split`, j, part.service, "http");
  }
  for (const [i, l] of list(doc.listeners).map(obj).entries()) checkService("listeners", i, l.service, "tcp");
  // A TLS listener's SNI table maps host names to services, which must exist and have TCP backends.
  for (const [i, l] of list(doc.listeners).map(obj).entries()) {
    for (const [host, ref] of Object.entries(obj(l.sni))) {
      const n = str(ref);
      const kind = n === undefined ? undefined : kinds.get(n);
      const path = `listeners[${i}].sni[${JSON.stringify(host)}]`;
      if (n === undefined) continue;
      if (kind === undefined) {
        problems.push({
          path,
          message: `no service named "${n}" (services: ${serviceNames.length ? serviceNames.join(", ") : "none defined"})`,
        });
      } else if (kind === "http") {
        problems.push({
          path,
          message: `service "${n}" has HTTP backends (url); a listener needs a service with TCP backends (address)`,
        });
      }
    }
  }

  // Routes attach rate limits by name.
  const rateLimitNames = list(doc.rate_limits)
    .map(obj)
    .map((rl) => str(rl.name))
    .filter((n): n is string => n !== undefined);
  duplicates(list(doc.rate_limits).map(obj), "rate_limits", "rate limit", problems);
  for (const [i, r] of list(doc.routes).map(obj).entries()) {
    const refs = typeof r.rate_limit === "string" ? [r.rate_limit] : list(r.rate_limit);
    for (const [j, ref] of refs.entries()) {
      if (typeof ref !== "string" || rateLimitNames.includes(ref)) continue;
      const path =
        typeof r.rate_limit === "string" ? `routes[${i}].rate_limit` : `routes[${i}].rate_limit[${j}]`;
      problems.push({
        path,
        message: `no rate limit named "${ref}" (rate_limits: ${rateLimitNames.length ? rateLimitNames.join(", ") : "none defined"})`,
      });
    }
  }

  // Two listeners conflict on the same port when the hosts are equal or either is a wildcard address, and
  // both use TCP (tcp, tls) or both UDP: a UDP and a TCP listener may share a port.
  const seen: { host: string; port: number; index: number; udp: boolean }[] = [];
  list(doc.listeners)
    .map(obj)
    .forEach((l, i) => {
      const listen = str(l.listen);
      const hp = listen === undefined ? undefined : parseHostPort(listen);
      if (!hp) return;
      const wildcard = (h: string) => h === "0.0.0.0" || h === "::" || h === "";
      const udp = l.protocol === "udp";
      const clash = seen.find(
        (s) =>
          s.port === hp.port &&
          s.udp === udp &&
          (s.host === hp.host || wildcard(s.host) || wildcard(hp.host)),
      );
      if (clash) {
        problems.push({
          path: `listeners[${i}].listen`,
          message: `"${listen}" is already used by listeners[${clash.index}]; two listeners cannot share an address`,
        });
      }
      seen.push({ ...hp, index: i, udp });
    });
  problems.push(...wafCrossReferenceProblems(doc));
  return problems;
}

function duplicates(items: Raw[], section: string, what: string, problems: ConfigProblem[]): void {
  const first = new Map<string, number>();
  items.forEach((item, i) => {
    const n = str(item.name);
    if (n === undefined) return;
    const j = first.get(n);
    if (j === undefined) first.set(n, i);
    else
      problems.push({
        path: `${section}[${i}].name`,
        message: `duplicate ${what} name "${n}" (first used by ${section}[${j}])`,
      });
  });
}
