// routes: which requests the worker sends to which HTTP service.
import { z } from "zod";
import { hostname, name } from "../fields.ts";

export const pathMatchSchema = z
  .strictObject({
    exact: z.string().startsWith("/", { error: 'a path starts with "/"' }).optional().meta({
      description: "Matches this path exactly (case-sensitive).",
    }),
    prefix: z.string().startsWith("/", { error: 'a path prefix starts with "/"' }).optional().meta({
      description:
        'Matches this path and everything below it, segment by segment: "/v2" matches "/v2" and "/v2/x", not "/v2x".',
    }),
  })
  .superRefine((p, ctx) => {
    const kinds = [p.exact, p.prefix].filter((v) => v !== undefined).length;
    if (kinds !== 1)
      ctx.addIssue({ code: "custom", message: 'a path match needs exactly one of "exact" or "prefix"' });
  })
  .meta({ description: "How the request path must look." });

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
  })
  .meta({
    description: "Conditions a request must meet for this route; all of them must hold. Empty matches all.",
  });

export const routeSchema = z
  .strictObject({
    name: name("route"),
    match: matchSchema.default({}),
    service: z.string().meta({ description: "Name of the HTTP service that serves matching requests." }),
  })
  .meta({ description: "A routing rule of the worker: requests that match go to the service." });

export type PathMatch = z.output<typeof pathMatchSchema>;
export type RouteMatch = z.output<typeof matchSchema>;
export type Route = z.output<typeof routeSchema>;
