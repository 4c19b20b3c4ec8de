// routes: which requests the worker sends where (match), and what it does with them (action + modifiers).
// Matching precedence follows the Kubernetes Gateway API, not list order; see core/routing/precedence.ts.
import * as z from "zod";
import { DEFAULTS } from "../defaults.ts";
import { hostname, name } from "../fields.ts";
import { retryOverrideSchema } from "./retry.ts";
import { routeWafSchema, routeWhenSchema } from "./waf.ts";

const regexError = (pattern: string): string | undefined => {
  try {
    new RegExp(pattern);
    return undefined;
  } catch (e) {
    return `${JSON.stringify(pattern)} is not a valid regular expression: ${(e as Error).message}`;
  }
};

const regex = (description: string) =>
  z
    .string()
    .superRefine((pattern, ctx) => {
      const problem = regexError(pattern);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .meta({ description });

const TEMPLATE_SEGMENT = /^(?::[A-Za-z_][A-Za-z0-9_]*|[^:]*)$/;

export const pathMatchSchema = z
  .strictObject({
    exact: z.string().startsWith("/", { error: 'a path starts with "/"' }).optional().meta({
      description: "Matches this path exactly (case-sensitive).",
    }),
    prefix: z.string().startsWith("/", { error: 'a path prefix starts with "/"' }).optional().meta({
      description:
        'Matches this path and everything below it, segment by segment: "/v2" matches "/v2", "/v2/" and "/v2/x", not "/v2x".',
    }),
    regex: regex(
      'Matches when this regular expression finds a match in the path, e.g. "^/v[0-9]+/".',
    ).optional(),
    template: z
      .string()
      .startsWith("/", { error: 'a path template starts with "/"' })
      .refine((t) => t.split("/").every((seg) => TEMPLATE_SEGMENT.test(seg)), {
        error:
          'a template segment is either literal text or ":name" (letters, digits, "_"), e.g. "/users/:id"',
      })
      .optional()
      .meta({
        description:
          'Matches paths of this shape; ":name" matches one segment and is usable in rewrites, e.g. "/users/:id".',
      }),
  })
  .superRefine((p, ctx) => {
    const kinds = [p.exact, p.prefix, p.regex, p.template].filter((v) => v !== undefined).length;
    if (kinds !== 1) {
      ctx.addIssue({
        code: "custom",
        message: 'a path match needs exactly one of "exact", "prefix", "regex" or "template"',
      });
    }
  })
  .meta({ description: "How the request path must look." });

export const valueMatchSchema = z
  .union([
    z.string().meta({ description: "Shorthand for { exact = ... }." }),
    z
      .strictObject({
        exact: z.string().optional().meta({ description: "The value equals this (case-sensitive)." }),
        regex: regex("The value contains a match for this regular expression.").optional(),
        present: z.literal(true).optional().meta({ description: "The field is present, with any value." }),
        absent: z.literal(true).optional().meta({ description: "The field is not present." }),
      })
      .superRefine((v, ctx) => {
        const kinds = [v.exact, v.regex, v.present, v.absent].filter((x) => x !== undefined).length;
        if (kinds !== 1) {
          ctx.addIssue({
            code: "custom",
            message: 'a value match needs exactly one of "exact", "regex", "present" or "absent"',
          });
        }
      }),
  ])
  .meta({
    description: 'A value condition: "text" (exact), { regex }, { present = true } or { absent = true }.',
  });

const METHOD = /^[A-Za-z]+$/;
const method = z
  .string()
  .regex(METHOD, {
    error: (iss) => `${JSON.stringify(iss.input)} is not an HTTP method such as "GET" or "POST"`,
  })
  .transform((m) => m.toUpperCase());

export const matchSchema = z
  .strictObject({
    host: z
      .union([hostname, z.array(hostname).min(1)])
      .optional()
      .meta({
        description:
          "Host name(s) the route serves; no host means any. A port in the Host header is ignored.",
      }),
    path: pathMatchSchema.optional(),
    method: z
      .union([method, z.array(method).min(1)])
      .optional()
      .meta({ description: 'HTTP method(s), e.g. "GET" or ["GET", "HEAD"].' }),
    headers: z
      .record(
        z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { error: "not a valid header name" }),
        valueMatchSchema,
      )
      .optional()
      .meta({ description: "Header conditions by name (case-insensitive); all must hold." }),
    query: z.record(z.string(), valueMatchSchema).optional().meta({
      description: "Query parameter conditions by name (names and values case-sensitive); all must hold.",
    }),
    cookies: z
      .record(z.string(), valueMatchSchema)
      .optional()
      .meta({ description: "Cookie conditions by name; all must hold." }),
  })
  .meta({
    description:
      "Conditions a request must meet; all of them must hold. An empty block matches every request.",
  });

const headerMap = (what: string) => z.record(z.string(), z.string()).optional().meta({ description: what });

export const headerModifiersSchema = z
  .strictObject({
    set: headerMap("Headers to set, replacing any value already there."),
    add: headerMap("Headers to add; a header already present gets the value appended after a comma."),
    remove: z
      .array(z.string())
      .optional()
      .meta({ description: "Header names to remove (case-insensitive)." }),
  })
  .meta({ description: "Header changes: set, add, remove. Names are case-insensitive." });

export const REDIRECT_STATUSES = [301, 302, 303, 307, 308] as const;

export const redirectSchema = z
  .strictObject({
    scheme: z.enum(["http", "https"]).optional().meta({ description: "New scheme; default: unchanged." }),
    host: z.string().min(1).optional().meta({ description: "New host name; default: unchanged." }),
    port: z.number().int().min(1).max(65535).optional().meta({
      description: "New port; default: unchanged (or the scheme's default when the scheme changes).",
    }),
    path: z.string().startsWith("/").optional().meta({
      description: 'Replace the whole path; ":name" inserts a template parameter of the matched path.',
    }),
    prefix: z.string().startsWith("/").optional().meta({
      description: "Replace the matched path prefix with this; needs a path prefix match.",
    }),
    keep_query: z.boolean().default(true).meta({ description: "Keep the query string. Default true." }),
    status: z
      .literal(REDIRECT_STATUSES)
      .default(DEFAULTS.route.redirectStatus)
      .meta({ description: "301, 302, 303, 307 or 308. Default 302." }),
  })
  .superRefine((r, ctx) => {
    if (r.path !== undefined && r.prefix !== undefined) {
      ctx.addIssue({ code: "custom", message: 'a redirect takes "path" or "prefix", not both' });
    }
  })
  .meta({ description: "Answer with a redirect instead of forwarding." });

export const rewriteSchema = z
  .strictObject({
    path: z.string().startsWith("/").optional().meta({
      description: 'Replace the whole path; ":name" inserts a template parameter, e.g. "/profiles/:id".',
    }),
    prefix: z.string().startsWith("/").optional().meta({
      description:
        'Replace the matched path prefix with this ("/" never leaves "//"); needs a path prefix match.',
    }),
    host: z.string().min(1).optional().meta({
      description:
        "Host to send to the backend. A Worker's fetch() takes the host from the URL, so this replaces the backend URL's host: use it with backends addressed by name.",
    }),
  })
  .superRefine((r, ctx) => {
    if (r.path !== undefined && r.prefix !== undefined) {
      ctx.addIssue({ code: "custom", message: 'a rewrite takes "path" or "prefix", not both' });
    }
  })
  .meta({ description: "Change the request before forwarding it." });

export const respondSchema = z
  .strictObject({
    status: z.number().int().min(200).max(599).meta({ description: "HTTP status of the answer." }),
    body: z.string().default("").meta({ description: "Body text. Default empty." }),
    content_type: z
      .string()
      .default(DEFAULTS.route.respondContentType)
      .meta({ description: 'Content-Type of the body. Default "text/plain; charset=utf-8".' }),
  })
  .meta({ description: "Answer directly (maintenance page, block) instead of forwarding." });

export const splitSchema = z
  .array(
    z.strictObject({
      service: z.string().meta({ description: "Name of an HTTP service." }),
      weight: z.number().int().min(0).max(1000).meta({ description: "Relative share of requests." }),
    }),
  )
  .min(1)
  .meta({
    description: 'Weighted split across services (canary), e.g. [{ service = "v1", weight = 90 }, ...].',
  });

const ACTIONS = ["service", "split", "redirect", "respond"] as const;

export const routeSchema = z
  .strictObject({
    name: name("route"),
    match: z
      .union([matchSchema, z.array(matchSchema).min(1)])
      .default({})
      .transform((m) => (Array.isArray(m) ? m : [m]))
      .meta({ description: "One match block, or a list of them (the route matches when any block does)." }),
    service: z.string().optional().meta({ description: "Forward matching requests to this HTTP service." }),
    split: splitSchema.optional(),
    redirect: redirectSchema.optional(),
    respond: respondSchema.optional(),
    rewrite: rewriteSchema.optional(),
    request_headers: headerModifiersSchema
      .optional()
      .meta({ description: "Header changes on the way to the backend." }),
    response_headers: headerModifiersSchema.optional().meta({
      description: "Header changes on the way to the client (also on redirects and direct answers).",
    }),
    rate_limit: z
      .union([z.string(), z.array(z.string()).min(1)])
      .optional()
      .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]))
      .meta({ description: "Name(s) of rate_limits policies applied to this route, in order." }),
    retry: retryOverrideSchema.optional(),
    when: routeWhenSchema.optional(),
    waf: routeWafSchema.optional(),
  })
  .superRefine((r, ctx) => {
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
    const needsPrefix = r.rewrite?.prefix !== undefined || r.redirect?.prefix !== undefined;
    if (needsPrefix && !r.match.every((m) => m.path?.prefix !== undefined)) {
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
        const ok = r.match.every((m) => m.path?.template?.split("/").includes(param));
        if (!ok) {
          ctx.addIssue({
            code: "custom",
            path: [section, "path"],
            message: `"${param}" is not a parameter of the path template of every match block`,
          });
        }
      }
    }
  })
  .meta({ description: "A routing rule of the worker: requests that match get the route's action." });

export type PathMatch = z.output<typeof pathMatchSchema>;
export type ValueMatch = z.output<typeof valueMatchSchema>;
export type RouteMatch = z.output<typeof matchSchema>;
export type HeaderModifiers = z.output<typeof headerModifiersSchema>;
export type Redirect = z.output<typeof redirectSchema>;
export type Rewrite = z.output<typeof rewriteSchema>;
export type Route = z.output<typeof routeSchema>;
