// Service affinity: sticky sessions by signed cookie (worker only), and the request field that hash-based
// balancers (ring-hash, maglev) key on.
import * as z from "zod/mini";
import { DEFAULTS } from "../defaults.ts";
import type { Describe } from "../describe.ts";
import { duration, headerName } from "../fields.ts";

export const stickySchema = z.strictObject({
  cookie: z._default(
    z.string().check(z.regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { error: "not a valid cookie name" })),
    DEFAULTS.sticky.cookie,
  ),
  ttl: z.prefault(duration(), DEFAULTS.sticky.ttl),
  secure: z._default(z.boolean(), true),
  http_only: z._default(z.boolean(), true),
  same_site: z._default(z.enum(["Strict", "Lax", "None"]), "Lax"),
  path: z._default(z.string().check(z.startsWith("/")), "/"),
});

const clientIpKey = z.literal("client-ip");
const headerKey = z.strictObject({ header: headerName() });
const cookieKey = z.strictObject({ cookie: z.string().check(z.minLength(1)) });
const queryKey = z.strictObject({ query: z.string().check(z.minLength(1)) });

export const hashKeySchema = z.union([clientIpKey, headerKey, cookieKey, queryKey]);

export type Sticky = z.output<typeof stickySchema>;
export type HashKey = z.output<typeof hashKeySchema>;

export function affinityDescriptions(d: Describe): void {
  d(
    stickySchema,
    "Cookie affinity: the worker pins a client to the backend that served it with an HMAC-signed cookie (secret: the STICKY_SECRET wrangler secret). A forged or expired cookie is ignored.",
  );
  d.fields(stickySchema, {
    cookie: 'Name of the affinity cookie. Default "sy_aff".',
    ttl: 'How long a client stays pinned, e.g. "1h". Default "1h".',
    secure: "Set the Secure attribute. Default true.",
    http_only: "Set the HttpOnly attribute. Default true.",
    same_site: "SameSite attribute: Strict, Lax or None. Default Lax.",
    path: 'Path attribute. Default "/".',
  });
  d(
    hashKeySchema,
    'What hash-based balancers (ring-hash, maglev) key on: "client-ip", { header = "x-user" }, { cookie = "uid" } or { query = "u" }. Requests without the field are balanced without a key.',
  );
  d(clientIpKey, "The client IP (CF-Connecting-IP).");
  d.fields(headerKey, { header: "A request header's value." });
  d.fields(cookieKey, { cookie: "A cookie's value." });
  d.fields(queryKey, { query: "A query parameter's value." });
}
