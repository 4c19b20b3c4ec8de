// Service affinity: sticky sessions by signed cookie (worker only), and the request field that hash-based
// balancers (ring-hash, maglev) key on.
import * as z from "zod/mini";
import { DEFAULTS } from "../defaults.ts";
import { duration, headerName } from "../fields.ts";
import { meta } from "../zod.ts";

export const stickySchema = meta(
  z.strictObject({
    cookie: meta(
      z._default(
        z.string().check(z.regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { error: "not a valid cookie name" })),
        DEFAULTS.sticky.cookie,
      ),
      { description: 'Name of the affinity cookie. Default "sy_aff".' },
    ),
    ttl: z.prefault(
      duration('How long a client stays pinned, e.g. "1h". Default "1h".'),
      DEFAULTS.sticky.ttl,
    ),
    secure: meta(z._default(z.boolean(), true), { description: "Set the Secure attribute. Default true." }),
    http_only: meta(z._default(z.boolean(), true), {
      description: "Set the HttpOnly attribute. Default true.",
    }),
    same_site: meta(z._default(z.enum(["Strict", "Lax", "None"]), "Lax"), {
      description: "SameSite attribute: Strict, Lax or None. Default Lax.",
    }),
    path: meta(z._default(z.string().check(z.startsWith("/")), "/"), {
      description: 'Path attribute. Default "/".',
    }),
  }),
  {
    description:
      "Cookie affinity: the worker pins a client to the backend that served it with an HMAC-signed cookie (secret: the STICKY_SECRET wrangler secret). A forged or expired cookie is ignored.",
  },
);

export const hashKeySchema = meta(
  z.union([
    meta(z.literal("client-ip"), { description: "The client IP (CF-Connecting-IP)." }),
    z.strictObject({
      header: meta(headerName(), { description: "A request header's value." }),
    }),
    z.strictObject({ cookie: meta(z.string().check(z.minLength(1)), { description: "A cookie's value." }) }),
    z.strictObject({
      query: meta(z.string().check(z.minLength(1)), { description: "A query parameter's value." }),
    }),
  ]),
  {
    description:
      'What hash-based balancers (ring-hash, maglev) key on: "client-ip", { header = "x-user" }, { cookie = "uid" } or { query = "u" }. Requests without the field are balanced without a key.',
  },
);

export type Sticky = z.output<typeof stickySchema>;
export type HashKey = z.output<typeof hashKeySchema>;
