// Config-load warnings for fields a TCP service sets that cannot apply to it: they belong to HTTP requests
// (statuses, cookies, headers, retries of a request) and the sidecar only sees connections. The config still
// loads; `switchyard check`, `switchyard-l4 --check` and the sidecar's loads print them with their paths.
import type { ConfigProblem } from "./errors.ts";

type Raw = Record<string, unknown>;

const isTable = (v: unknown): v is Raw => v !== null && typeof v === "object" && !Array.isArray(v);

/** Why each field cannot apply to a service of TCP backends. */
const SERVICE_FIELDS: Record<string, string> = {
  retry:
    "retries are for HTTP requests; a TCP service is never retried after bytes were sent, and a listener fails over to another backend on a connect failure up to its connect_attempts",
  sticky:
    'sticky sessions use a cookie, and a TCP connection has none; balance = "ring-hash" or "maglev" keeps a client on one backend by its IP',
};
const PASSIVE_FIELDS: Record<string, string> = {
  consecutive_5xx: "a TCP connection has no HTTP status; connect failures count toward `failures`",
  max_eject:
    "the sidecar ejects a backend for `eject` each time; ejections growing up to max_eject are the worker's",
};

/** Warnings for TCP services (backends with `address`) in a raw document that passed the schema. */
export function tcpServiceWarnings(doc: unknown): ConfigProblem[] {
  const services = isTable(doc) ? doc.services : undefined;
  if (!Array.isArray(services)) return [];
  const out: ConfigProblem[] = [];
  services.forEach((s: unknown, i) => {
    if (
      !isTable(s) ||
      !Array.isArray(s.backends) ||
      !isTable(s.backends[0]) ||
      s.backends[0].address === undefined
    )
      return;
    const at = `services[${i}]`;
    for (const [field, why] of Object.entries(SERVICE_FIELDS))
      if (s[field] !== undefined)
        out.push({ path: `${at}.${field}`, message: `ignored for a TCP service: ${why}` });
    if (isTable(s.hash))
      out.push({
        path: `${at}.hash`,
        message:
          'ignored for a TCP service: a connection has no headers, cookies or query; hash balancers key on the client IP ("client-ip")',
      });
    if (isTable(s.passive))
      for (const [field, why] of Object.entries(PASSIVE_FIELDS))
        if (s.passive[field] !== undefined)
          out.push({ path: `${at}.passive.${field}`, message: `ignored for a TCP service: ${why}` });
  });
  return out;
}
