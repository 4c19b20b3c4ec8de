// routes: which requests the worker sends where (match), and what it does with them (action + modifiers).
// Matching precedence follows the Kubernetes Gateway API, not list order; see core/routing/precedence.ts.
import * as z from "zod/mini";
import { backtrackingRisk } from "../../rules/regex-safety.ts";
import { DEFAULTS } from "../defaults.ts";
import { headerName, headerRecord, headerValue, hostname, name } from "../fields.ts";
import { meta } from "../zod.ts";
import { retryOverrideSchema } from "./retry.ts";
import { routeWafSchema, routeWhenSchema } from "./waf.ts";

const regexError = (pattern: string): string | undefined => {
  try {
    new RegExp(pattern);
  } catch (e) {
    return `${JSON.stringify(pattern)} is not a valid regular expression: ${(e as Error).message}`;
  }
  const risk = backtrackingRisk(pattern);
  return risk && `${JSON.stringify(pattern)} is refused: ${risk}`;
};

const regex = (description: string) =>
  meta(
    z.string().check(
      z.superRefine((pattern: string, ctx) => {
        const problem = regexError(pattern);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      }),
    ),
    { description },
  );

const TEMPLATE_SEGMENT = /^(?::[A-Za-z_][A-Za-z0-9_]*|[^:]*)$/;

export const pathMatchSchema = meta(
  z
    .strictObject({
      exact: meta(z.optional(z.string().check(z.startsWith("/", { error: 'a path starts with "/"' }))), {
        description: "Matches this path exactly (case-sensitive).",
      }),
      prefix: meta(
        z.optional(z.string().check(z.startsWith("/", { error: 'a path prefix starts with "/"' }))),
        {
          description:
            'Matches this path and everything below it, segment by segment: "/v2" matches "/v2", "/v2/" and "/v2/x", not "/v2x".',
        },
      ),
      regex: z.optional(
        regex('Matches when this regular expression finds a match in the path, e.g. "^/v[0-9]+/".'),
      ),
      template: meta(
        z.optional(
          z.string().check(
            z.startsWith("/", { error: 'a path template starts with "/"' }),
            z.refine((t: string) => t.split("/").every((seg) => TEMPLATE_SEGMENT.test(seg)), {
              error:
                'a template segment is either literal text or ":name" (letters, digits, "_"), e.g. "/users/:id"',
            }),
          ),
        ),
        {
          description:
            'Matches paths of this shape; ":name" matches one segment and is usable in rewrites, e.g. "/users/:id".',
        },
      ),
    })
    .check(
      z.superRefine((p, ctx) => {
        const kinds = [p.exact, p.prefix, p.regex, p.template].filter((v) => v !== undefined).length;
        if (kinds !== 1) {
          ctx.addIssue({
            code: "custom",
            message: 'a path match needs exactly one of "exact", "prefix", "regex" or "template"',
          });
        }
      }),
    ),
  { description: "How the request path must look." },
);

export const valueMatchSchema = meta(
  z.union([
    meta(z.string(), { description: "Shorthand for { exact = ... }." }),
    z
      .strictObject({
        exact: meta(z.optional(z.string()), { description: "The value equals this (case-sensitive)." }),
        regex: z.optional(regex("The value contains a match for this regular expression.")),
        present: meta(z.optional(z.literal(true)), { description: "The field is present, with any value." }),
        absent: meta(z.optional(z.literal(true)), { description: "The field is not present." }),
      })
      .check(
        z.superRefine((v, ctx) => {
          const kinds = [v.exact, v.regex, v.present, v.absent].filter((x) => x !== undefined).length;
          if (kinds !== 1) {
            ctx.addIssue({
              code: "custom",
              message: 'a value match needs exactly one of "exact", "regex", "present" or "absent"',
            });
          }
        }),
      ),
  ]),
  {
    description: 'A value condition: "text" (exact), { regex }, { present = true } or { absent = true }.',
  },
);

const METHOD = /^[A-Za-z]+$/;
const method = z.pipe(
  z.string().check(
    z.regex(METHOD, {
      error: (iss) => `${JSON.stringify(iss.input)} is not an HTTP method such as "GET" or "POST"`,
    }),
  ),
  z.transform((m: string) => m.toUpperCase()),
);

export const matchSchema = meta(
  z.strictObject({
    host: meta(z.optional(z.union([hostname, z.array(hostname).check(z.minLength(1))])), {
      description: "Host name(s) the route serves; no host means any. A port in the Host header is ignored.",
    }),
    path: z.optional(pathMatchSchema),
    method: meta(z.optional(z.union([method, z.array(method).check(z.minLength(1))])), {
      description: 'HTTP method(s), e.g. "GET" or ["GET", "HEAD"].',
    }),
    headers: meta(z.optional(headerRecord(valueMatchSchema)), {
      description: "Header conditions by name (case-insensitive); all must hold.",
    }),
    query: meta(z.optional(z.record(z.string(), valueMatchSchema)), {
      description: "Query parameter conditions by name (names and values case-sensitive); all must hold.",
    }),
    cookies: meta(z.optional(z.record(z.string(), valueMatchSchema)), {
      description: "Cookie conditions by name; all must hold.",
    }),
  }),
  {
    description:
      "Conditions a request must meet; all of them must hold. An empty block matches every request.",
  },
);

const headerMap = (what: string) => meta(z.optional(headerRecord(headerValue())), { description: what });

export const headerModifiersSchema = meta(
  z.strictObject({
    set: headerMap("Headers to set, replacing any value already there."),
    add: headerMap("Headers to add; a header already present gets the value appended after a comma."),
    remove: meta(z.optional(z.array(headerName())), {
      description: "Header names to remove (case-insensitive).",
    }),
  }),
  { description: "Header changes: set, add, remove. Names are case-insensitive." },
);

export const REDIRECT_STATUSES = [301, 302, 303, 307, 308] as const;

export const redirectSchema = meta(
  z
    .strictObject({
      scheme: meta(z.optional(z.enum(["http", "https"])), { description: "New scheme; default: unchanged." }),
      host: meta(z.optional(z.string().check(z.minLength(1))), {
        description: "New host name; default: unchanged.",
      }),
      port: meta(z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(65535))), {
        description: "New port; default: unchanged (or the scheme's default when the scheme changes).",
      }),
      path: meta(z.optional(z.string().check(z.startsWith("/"))), {
        description: 'Replace the whole path; ":name" inserts a template parameter of the matched path.',
      }),
      prefix: meta(z.optional(z.string().check(z.startsWith("/"))), {
        description: "Replace the matched path prefix with this; needs a path prefix match.",
      }),
      keep_query: meta(z._default(z.boolean(), true), {
        description: "Keep the query string. Default true.",
      }),
      status: meta(z._default(z.literal(REDIRECT_STATUSES), DEFAULTS.route.redirectStatus), {
        description: "301, 302, 303, 307 or 308. Default 302.",
      }),
    })
    .check(
      z.superRefine((r, ctx) => {
        if (r.path !== undefined && r.prefix !== undefined) {
          ctx.addIssue({ code: "custom", message: 'a redirect takes "path" or "prefix", not both' });
        }
      }),
    ),
  { description: "Answer with a redirect instead of forwarding." },
);

export const rewriteSchema = meta(
  z
    .strictObject({
      path: meta(z.optional(z.string().check(z.startsWith("/"))), {
        description: 'Replace the whole path; ":name" inserts a template parameter, e.g. "/profiles/:id".',
      }),
      prefix: meta(z.optional(z.string().check(z.startsWith("/"))), {
        description:
          'Replace the matched path prefix with this ("/" never leaves "//"); needs a path prefix match.',
      }),
      host: meta(z.optional(z.string().check(z.minLength(1))), {
        description:
          "Host to send to the backend. A Worker's fetch() takes the host from the URL, so this replaces the backend URL's host: use it with backends addressed by name.",
      }),
    })
    .check(
      z.superRefine((r, ctx) => {
        if (r.path !== undefined && r.prefix !== undefined) {
          ctx.addIssue({ code: "custom", message: 'a rewrite takes "path" or "prefix", not both' });
        }
      }),
    ),
  { description: "Change the request before forwarding it." },
);

export const respondSchema = meta(
  z.strictObject({
    status: meta(z.number().check(z.int(), z.minimum(200), z.maximum(599)), {
      description: "HTTP status of the answer.",
    }),
    body: meta(z._default(z.string(), ""), { description: "Body text. Default empty." }),
    content_type: meta(z._default(headerValue(), DEFAULTS.route.respondContentType), {
      description: 'Content-Type of the body. Default "text/plain; charset=utf-8".',
    }),
  }),
  { description: "Answer directly (maintenance page, block) instead of forwarding." },
);

export const splitSchema = meta(
  z
    .array(
      z.strictObject({
        service: meta(z.string(), { description: "Name of an HTTP service." }),
        weight: meta(z.number().check(z.int(), z.minimum(0), z.maximum(1000)), {
          description: "Relative share of requests.",
        }),
      }),
    )
    .check(z.minLength(1)),
  {
    description: 'Weighted split across services (canary), e.g. [{ service = "v1", weight = 90 }, ...].',
  },
);

const ACTIONS = ["service", "split", "redirect", "respond"] as const;

export const routeSchema = meta(
  z
    .strictObject({
      name: name("route"),
      match: meta(
        z.pipe(
          z._default(z.union([matchSchema, z.array(matchSchema).check(z.minLength(1))]), {}),
          z.transform((m: RouteMatch | RouteMatch[]) => (Array.isArray(m) ? m : [m])),
        ),
        { description: "One match block, or a list of them (the route matches when any block does)." },
      ),
      service: meta(z.optional(z.string()), {
        description: "Forward matching requests to this HTTP service.",
      }),
      split: z.optional(splitSchema),
      redirect: z.optional(redirectSchema),
      respond: z.optional(respondSchema),
      rewrite: z.optional(rewriteSchema),
      forward_raw_path: meta(z.optional(z.boolean()), {
        description:
          "Send the backend the path as the client sent it rather than the normalised one (forwarding.normalize_path); matching and rules still see the normalised path. Default false.",
      }),
      request_headers: meta(z.optional(headerModifiersSchema), {
        description: "Header changes on the way to the backend.",
      }),
      response_headers: meta(z.optional(headerModifiersSchema), {
        description: "Header changes on the way to the client (also on redirects and direct answers).",
      }),
      rate_limit: meta(
        z.pipe(
          z.optional(z.union([z.string(), z.array(z.string()).check(z.minLength(1))])),
          z.transform((v: string | string[] | undefined) =>
            v === undefined ? [] : Array.isArray(v) ? v : [v],
          ),
        ),
        { description: "Name(s) of rate_limits policies applied to this route, in order." },
      ),
      retry: z.optional(retryOverrideSchema),
      when: z.optional(routeWhenSchema),
      waf: z.optional(routeWafSchema),
    })
    .check(
      z.superRefine((r, ctx) => {
        const actions = ACTIONS.filter((a) => r[a] !== undefined);
        if (actions.length !== 1) {
          ctx.addIssue({
            code: "custom",
            message:
              actions.length === 0
                ? 'a route needs an action: "service", "split", "redirect" or "respond"'
                : `a route takes one action, got ${actions.map((a) => `"${a}"`).join(" and ")}`,
          });
        }
        if (r.rewrite && (r.redirect || r.respond)) {
          ctx.addIssue({
            code: "custom",
            path: ["rewrite"],
            message: "a rewrite applies only to forwarded requests (service or split)",
          });
        }
        // When a refinement inside match fails (e.g. an empty value match), zod still runs this check, with
        // match as written: one block or a list, not yet turned into a list by the transform.
        const blocks: RouteMatch[] = Array.isArray(r.match) ? r.match : [r.match as unknown as RouteMatch];
        const needsPrefix = r.rewrite?.prefix !== undefined || r.redirect?.prefix !== undefined;
        if (needsPrefix && !blocks.every((m) => m.path?.prefix !== undefined)) {
          ctx.addIssue({
            code: "custom",
            path: [r.rewrite?.prefix !== undefined ? "rewrite" : "redirect", "prefix"],
            message: "replacing a prefix needs every match block of the route to have a path prefix",
          });
        }
        for (const [section, target] of [
          ["rewrite", r.rewrite?.path],
          ["redirect", r.redirect?.path],
        ] as const) {
          if (target === undefined) continue;
          for (const param of target.match(/:[A-Za-z_][A-Za-z0-9_]*/g) ?? []) {
            const ok = blocks.every((m) => m.path?.template?.split("/").includes(param));
            if (!ok) {
              ctx.addIssue({
                code: "custom",
                path: [section, "path"],
                message: `"${param}" is not a parameter of the path template of every match block`,
              });
            }
          }
        }
      }),
    ),
  { description: "A routing rule of the worker: requests that match get the route's action." },
);

export type PathMatch = z.output<typeof pathMatchSchema>;
export type ValueMatch = z.output<typeof valueMatchSchema>;
export type RouteMatch = z.output<typeof matchSchema>;
export type HeaderModifiers = z.output<typeof headerModifiersSchema>;
export type Redirect = z.output<typeof redirectSchema>;
export type Rewrite = z.output<typeof rewriteSchema>;
export type Route = z.output<typeof routeSchema>;
