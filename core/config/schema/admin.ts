// admin: the worker's admin API and live-config behaviour: where the API is mounted, how often isolates
// re-check the config in Workers KV, and how many versions are kept for rollback.
import * as z from "zod/mini";
import { DEFAULTS } from "../defaults.ts";
import type { Describe } from "../describe.ts";
import { duration } from "../fields.ts";

export const adminSchema = z.prefault(
  z.strictObject({
    prefix: z._default(
      z.string().check(
        z.regex(/^\/[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*\/$/, {
          error: (iss) =>
            `${JSON.stringify(iss.input)} is not a usable admin prefix: write a path that starts and ends with "/" and names at least one segment, e.g. "/__switchyard/"`,
        }),
      ),
      DEFAULTS.admin.prefix,
    ),
    refresh: z.prefault(duration(), DEFAULTS.admin.refresh),
    history: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(50)), DEFAULTS.admin.history),
  }),
  {},
);

export type AdminSettings = z.output<typeof adminSchema>;

export function adminDescriptions(d: Describe): void {
  d(adminSchema, "The worker's admin API, dashboard and live config in Workers KV.");
  d.fields(adminSchema, {
    prefix:
      'Path under which the worker serves its admin API and dashboard; requests under it never reach a backend. Default "/__switchyard/".',
    refresh:
      'How often each isolate re-checks the config document in Workers KV (reading its version; the document is parsed only when the version changed). Default "10s".',
    history: "How many config versions Workers KV keeps for POST /config/rollback. Default 10.",
  });
}
