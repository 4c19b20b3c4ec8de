// forwarding: what the worker tells backends about the client (X-Forwarded-*, Forwarded, X-Request-Id) and
// which clients it believes. Only clients listed in trusted_proxies may pass their own X-Forwarded-For and
// X-Request-Id through; everyone else's are replaced, because CF-Connecting-IP is the only fact the edge has.
import * as z from "zod";
import { IpSet, IpSetError } from "../../rules/ip.ts";

export const forwardingSchema = z
  .strictObject({
    trusted_proxies: z
      .array(z.string())
      .default([])
      .superRefine((entries, ctx) => {
        try {
          IpSet.parse(entries);
        } catch (e) {
          if (!(e instanceof IpSetError)) throw e;
          ctx.addIssue({ code: "custom", path: [e.index], message: e.message });
        }
      })
      .meta({
        description:
          'Client addresses or CIDRs (e.g. "10.0.0.0/8") whose X-Forwarded-For is extended rather than replaced and whose X-Request-Id is kept. Default none.',
      }),
    forwarded: z
      .boolean()
      .default(false)
      .meta({ description: "Also send the RFC 7239 Forwarded header (for=, proto=, host=). Default false." }),
    internal_headers: z.array(z.string().min(1)).default([]).meta({
      description:
        'Header names stripped from client requests and from backend responses, e.g. ["x-internal-user"]. Default none.',
    }),
  })
  .default({ trusted_proxies: [], forwarded: false, internal_headers: [] })
  .meta({ description: "Forwarding headers and which clients are trusted to set them." });

export type Forwarding = z.output<typeof forwardingSchema>;
