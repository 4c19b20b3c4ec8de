// Service affinity: sticky sessions by signed cookie (worker only), and the request field that hash-based
// balancers (ring-hash, maglev) key on.
import * as z from "zod";
import { DEFAULTS } from "../defaults.ts";
import { duration } from "../fields.ts";

export const stickySchema = z
  .strictObject({
    cookie: z
      .string()
      .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { error: "not a valid cookie name" })
      .default(DEFAULTS.sticky.cookie)
      .meta({ description: 'Name of the affinity cookie. Default "sy_aff".' }),
    ttl: duration('How long a client stays pinned, e.g. "1h". Default "1h".').prefault(DEFAULTS.sticky.ttl),
    secure: z.boolean().default(true).meta({ description: "Set the Secure attribute. Default true." }),
    http_only: z.boolean().default(true).meta({ description: "Set the HttpOnly attribute. Default true." }),
    same_site: z
      .enum(["Strict", "Lax", "None"])
      .default("Lax")
      .meta({ description: "SameSite attribute: Strict, Lax or None. Default Lax." }),
    path: z.string().startsWith("/").default("/").meta({ description: 'Path attribute. Default "/".' }),
  })
  .meta({
    description:
      "Cookie affinity: the worker pins a client to the backend that served it with an HMAC-signed cookie (secret: the STICKY_SECRET wrangler secret). A forged or expired cookie is ignored.",
  });

export const hashKeySchema = z
  .union([
    z.literal("client-ip").meta({ description: "The client IP (CF-Connecting-IP)." }),
    z.strictObject({ header: z.string().min(1).meta({ description: "A request header's value." }) }),
    z.strictObject({ cookie: z.string().min(1).meta({ description: "A cookie's value." }) }),
    z.strictObject({ query: z.string().min(1).meta({ description: "A query parameter's value." }) }),
  ])
  .meta({
    description:
      'What hash-based balancers (ring-hash, maglev) key on: "client-ip", { header = "x-user" }, { cookie = "uid" } or { query = "u" }. Requests without the field are balanced without a key.',
  });

export type Sticky = z.output<typeof stickySchema>;
export type HashKey = z.output<typeof hashKeySchema>;
