// routes: which requests the worker sends where (match), and what it does with them (action + modifiers).
// Matching precedence follows the Kubernetes Gateway API, not list order; see core/routing/precedence.ts.
import * as z from "zod/mini";
import { backtrackingRisk } from "../../rules/regex-safety.ts";
import { DEFAULTS } from "../defaults.ts";
import { type Describe, nameDescription } from "../describe.ts";
import { headerName, headerRecord, headerValue, hostname, name } from "../fields.ts";
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

const regex = () =>
  z.string().check(
    z.superRefine((pattern: string, ctx) => {
      const problem = regexError(pattern);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
  );

const TEMPLATE_SEGMENT = /^(?::[A-Za-z_][A-Za-z0-9_]*|[^:]*)$/;

export const pathMatchSchema = z
  .strictObject({
    exact: z.optional(z.string().check(z.startsWith("/", { error: 'a path starts with "/"' }))),
    prefix: z.optional(z.string().check(z.startsWith("/", { error: 'a path prefix starts with "/"' }))),
    regex: z.optional(regex()),
    template: z.optional(
      z.string().check(
        z.startsWith("/", { error: 'a path template starts with "/"' }),
        z.refine((t: string) => t.split("/").every((seg) => TEMPLATE_SEGMENT.test(seg)), {
          error:
            'a template segment is either literal text or ":name" (letters, digits, "_"), e.g. "/users/:id"',
        }),
      ),
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
  );

const exactValue = z.string();
const valueConditions = z
  .strictObject({
    exact: z.optional(z.string()),
    regex: z.optional(regex()),
    present: z.optional(z.literal(true)),
    absent: z.optional(z.literal(true)),
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
  );

export const valueMatchSchema = z.union([exactValue, valueConditions]);

const METHOD = /^[A-Za-z]+$/;
const method = z.pipe(
  z.string().check(
    z.regex(METHOD, {
      error: (iss) => `${JSON.stringify(iss.input)} is not an HTTP method such as "GET" or "POST"`,
    }),
  ),
  z.transform((m: string) => m.toUpperCase()),
);

export const matchSchema = z.strictObject({
  host: z.optional(z.union([hostname, z.array(hostname).check(z.minLength(1))])),
  path: z.optional(pathMatchSchema),
  method: z.optional(z.union([method, z.array(method).check(z.minLength(1))])),
  headers: z.optional(headerRecord(valueMatchSchema)),
  query: z.optional(z.record(z.string(), valueMatchSchema)),
  cookies: z.optional(z.record(z.string(), valueMatchSchema)),
});

const headerMap = () => z.optional(headerRecord(headerValue()));

export const headerModifiersSchema = z.strictObject({
  set: headerMap(),
  add: headerMap(),
  remove: z.optional(z.array(headerName())),
});

export const REDIRECT_STATUSES = [301, 302, 303, 307, 308] as const;

export const redirectSchema = z
  .strictObject({
    scheme: z.optional(z.enum(["http", "https"])),
    host: z.optional(z.string().check(z.minLength(1))),
    port: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(65535))),
    path: z.optional(z.string().check(z.startsWith("/"))),
    prefix: z.optional(z.string().check(z.startsWith("/"))),
    keep_query: z._default(z.boolean(), true),
    status: z._default(z.literal(REDIRECT_STATUSES), DEFAULTS.route.redirectStatus),
  })
  .check(
    z.superRefine((r, ctx) => {
      if (r.path !== undefined && r.prefix !== undefined) {
        ctx.addIssue({ code: "custom", message: 'a redirect takes "path" or "prefix", not both' });
      }
    }),
  );

export const rewriteSchema = z
  .strictObject({
    path: z.optional(z.string().check(z.startsWith("/"))),
    prefix: z.optional(z.string().check(z.startsWith("/"))),
    host: z.optional(z.string().check(z.minLength(1))),
  })
  .check(
    z.superRefine((r, ctx) => {
      if (r.path !== undefined && r.prefix !== undefined) {
        ctx.addIssue({ code: "custom", message: 'a rewrite takes "path" or "prefix", not both' });
      }
    }),
  );

export const respondSchema = z.strictObject({
  status: z.number().check(z.int(), z.minimum(200), z.maximum(599)),
  body: z._default(z.string(), ""),
  content_type: z._default(headerValue(), DEFAULTS.route.respondContentType),
});

const splitEntry = z.strictObject({
  service: z.string(),
  weight: z.number().check(z.int(), z.minimum(0), z.maximum(1000)),
});

export const splitSchema = z.array(splitEntry).check(z.minLength(1));

const ACTIONS = ["service", "split", "redirect", "respond"] as const;

export const routeSchema = z
  .strictObject({
    name: name("route"),
    match: z.pipe(
      z._default(z.union([matchSchema, z.array(matchSchema).check(z.minLength(1))]), {}),
      z.transform((m: RouteMatch | RouteMatch[]) => (Array.isArray(m) ? m : [m])),
    ),
    service: z.optional(z.string()),
    split: z.optional(splitSchema),
    redirect: z.optional(redirectSchema),
    respond: z.optional(respondSchema),
    rewrite: z.optional(rewriteSchema),
    forward_raw_path: z.optional(z.boolean()),
    request_headers: z.optional(headerModifiersSchema),
    response_headers: z.optional(headerModifiersSchema),
    rate_limit: z.pipe(
      z.optional(z.union([z.string(), z.array(z.string()).check(z.minLength(1))])),
      z.transform((v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v])),
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
  );

export type PathMatch = z.output<typeof pathMatchSchema>;
export type ValueMatch = z.output<typeof valueMatchSchema>;
export type RouteMatch = z.output<typeof matchSchema>;
export type HeaderModifiers = z.output<typeof headerModifiersSchema>;
export type Redirect = z.output<typeof redirectSchema>;
export type Rewrite = z.output<typeof rewriteSchema>;
export type Route = z.output<typeof routeSchema>;

export function routeDescriptions(d: Describe): void {
  d(routeSchema, "A routing rule of the worker: requests that match get the route's action.");
  d.fields(routeSchema, {
    name: nameDescription("route"),
    match: "One match block, or a list of them (the route matches when any block does).",
    service: "Forward matching requests to this HTTP service.",
    forward_raw_path:
      "Send the backend the path as the client sent it rather than the normalised one (forwarding.normalize_path); matching and rules still see the normalised path. Default false.",
    request_headers: "Header changes on the way to the backend.",
    response_headers: "Header changes on the way to the client (also on redirects and direct answers).",
    rate_limit: "Name(s) of rate_limits policies applied to this route, in order.",
  });
  d(
    matchSchema,
    "Conditions a request must meet; all of them must hold. An empty block matches every request.",
  );
  d.fields(matchSchema, {
    host: "Host name(s) the route serves; no host means any. A port in the Host header is ignored.",
    method: 'HTTP method(s), e.g. "GET" or ["GET", "HEAD"].',
    headers: "Header conditions by name (case-insensitive); all must hold.",
    query: "Query parameter conditions by name (names and values case-sensitive); all must hold.",
    cookies: "Cookie conditions by name; all must hold.",
  });
  d(pathMatchSchema, "How the request path must look.");
  d.fields(pathMatchSchema, {
    exact: "Matches this path exactly (case-sensitive).",
    prefix:
      'Matches this path and everything below it, segment by segment: "/v2" matches "/v2", "/v2/" and "/v2/x", not "/v2x".',
    regex: 'Matches when this regular expression finds a match in the path, e.g. "^/v[0-9]+/".',
    template:
      'Matches paths of this shape; ":name" matches one segment and is usable in rewrites, e.g. "/users/:id".',
  });
  d(
    valueMatchSchema,
    'A value condition: "text" (exact), { regex }, { present = true } or { absent = true }.',
  );
  d(exactValue, "Shorthand for { exact = ... }.");
  d.fields(valueConditions, {
    exact: "The value equals this (case-sensitive).",
    regex: "The value contains a match for this regular expression.",
    present: "The field is present, with any value.",
    absent: "The field is not present.",
  });
  d(headerModifiersSchema, "Header changes: set, add, remove. Names are case-insensitive.");
  d.fields(headerModifiersSchema, {
    set: "Headers to set, replacing any value already there.",
    add: "Headers to add; a header already present gets the value appended after a comma.",
    remove: "Header names to remove (case-insensitive).",
  });
  d(redirectSchema, "Answer with a redirect instead of forwarding.");
  d.fields(redirectSchema, {
    scheme: "New scheme; default: unchanged.",
    host: "New host name; default: unchanged.",
    port: "New port; default: unchanged (or the scheme's default when the scheme changes).",
    path: 'Replace the whole path; ":name" inserts a template parameter of the matched path.',
    prefix: "Replace the matched path prefix with this; needs a path prefix match.",
    keep_query: "Keep the query string. Default true.",
    status: "301, 302, 303, 307 or 308. Default 302.",
  });
  d(rewriteSchema, "Change the request before forwarding it.");
  d.fields(rewriteSchema, {
    path: 'Replace the whole path; ":name" inserts a template parameter, e.g. "/profiles/:id".',
    prefix: 'Replace the matched path prefix with this ("/" never leaves "//"); needs a path prefix match.',
    host: "Host to send to the backend. A Worker's fetch() takes the host from the URL, so this replaces the backend URL's host: use it with backends addressed by name.",
  });
  d(respondSchema, "Answer directly (maintenance page, block) instead of forwarding.");
  d.fields(respondSchema, {
    status: "HTTP status of the answer.",
    body: "Body text. Default empty.",
    content_type: 'Content-Type of the body. Default "text/plain; charset=utf-8".',
  });
  d(splitSchema, 'Weighted split across services (canary), e.g. [{ service = "v1", weight = 90 }, ...].');
  d.fields(splitEntry, {
    service: "Name of an HTTP service.",
    weight: "Relative share of requests.",
  });
}
