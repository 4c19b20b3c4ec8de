// The whole Switchyard document: one schema for the worker and the sidecar.
import * as z from "zod/mini";
import { meta } from "../zod.ts";
import { adminSchema } from "./admin.ts";
import { forwardingSchema } from "./forwarding.ts";
import { listenerSchema } from "./listener.ts";
import { rateLimitSchema } from "./rate-limit.ts";
import { routeSchema } from "./route.ts";
import { serviceSchema } from "./service.ts";
import { wafSchema } from "./waf.ts";

export const configSchema = meta(
  z.strictObject({
    $schema: meta(z.optional(z.string()), {
      description: "Path or URL of switchyard.schema.json, for editors.",
    }),
    services: meta(z._default(z.array(serviceSchema), []), { description: "Named pools of backends." }),
    routes: meta(z._default(z.array(routeSchema), []), {
      description: "L7 routes of the worker, matched by specificity, then list order.",
    }),
    forwarding: forwardingSchema,
    listeners: meta(z._default(z.array(listenerSchema), []), { description: "L4 listeners of the sidecar." }),
    rate_limits: meta(z._default(z.array(rateLimitSchema), []), {
      description: "Rate-limit policies; routes attach them by name (rate_limit).",
    }),
    waf: z.prefault(wafSchema, {}),
    admin: adminSchema,
  }),
  {
    title: "Switchyard config",
    description: "Services, routes and listeners shared by the Switchyard worker and L4 sidecar.",
  },
);

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export * from "./admin.ts";
export * from "./affinity.ts";
export * from "./forwarding.ts";
export * from "./health.ts";
export * from "./listener.ts";
export * from "./rate-limit.ts";
export * from "./retry.ts";
export * from "./route.ts";
export * from "./service.ts";
export * from "./waf.ts";
