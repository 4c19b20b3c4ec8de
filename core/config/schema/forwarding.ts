// forwarding: what the worker tells backends about the client (X-Forwarded-*, Forwarded, X-Request-Id) and
// which clients it believes. Only clients listed in trusted_proxies may pass their own X-Forwarded-For and
// X-Request-Id through; everyone else's are replaced, because CF-Connecting-IP is the only fact the edge has.
import * as z from "zod/mini";
import { IpSet, IpSetError } from "../../rules/ip.ts";
import { UNTRUSTED_HEADERS } from "../defaults.ts";
import type { Describe } from "../describe.ts";
import { headerName } from "../fields.ts";

const ESCAPED_SLASHES = ["keep", "decode", "reject"] as const;

export const forwardingSchema = z._default(
  z.strictObject({
    trusted_proxies: z._default(z.array(z.string()), []).check(
      z.superRefine((entries: string[], ctx) => {
        try {
          IpSet.parse(entries);
        } catch (e) {
          if (!(e instanceof IpSetError)) throw e;
          ctx.addIssue({ code: "custom", path: [e.index], message: e.message });
        }
      }),
    ),
    forwarded: z._default(z.boolean(), false),
    normalize_path: z._default(z.boolean(), true),
    path: z._default(z.enum(ESCAPED_SLASHES), "keep"),
    strip_untrusted: z._default(z.array(headerName()), []),
    internal_headers: z._default(z.array(headerName()), []),
  }),
  {
    trusted_proxies: [],
    forwarded: false,
    normalize_path: true,
    path: "keep",
    strip_untrusted: [],
    internal_headers: [],
  },
);

export type Forwarding = z.output<typeof forwardingSchema>;

export function forwardingDescriptions(d: Describe): void {
  d(forwardingSchema, "Forwarding headers and which clients are trusted to set them.");
  d.fields(forwardingSchema, {
    trusted_proxies:
      'Client addresses or CIDRs (e.g. "10.0.0.0/8") whose X-Forwarded-For is extended rather than replaced and whose X-Request-Id is kept. Default none.',
    forwarded: "Also send the RFC 7239 Forwarded header (for=, proto=, host=). Default false.",
    normalize_path:
      'Normalise the request path before matching, rules and forwarding (RFC 3986 §6: unreserved escapes decoded, others upper-cased, "." and ".." resolved; repeated slashes merged), so "/%61dmin" and "//admin" meet what is written for "/admin". Default true.',
    path: 'Escaped slashes (%2F, %5C) in the path: "keep" them inside their segment, "decode" them into separators, or "reject" the request with 400 SY_PATH_REJECTED (Envoy\'s path_with_escaped_slashes_action). Default "keep".',
    strip_untrusted: `More request headers to remove when the client is not in trusted_proxies, on top of the built-in client-identity and original-URL headers (${UNTRUSTED_HEADERS.join(", ")}). Default none.`,
    internal_headers:
      'Header names stripped from client requests and from backend responses, e.g. ["x-internal-user"]. Default none.',
  });
}
