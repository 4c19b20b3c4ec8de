// The whole Switchyard document: one schema for the worker and the sidecar.
import * as z from "zod";
import { adminSchema } from "./admin.ts";
import { forwardingSchema } from "./forwarding.ts";
import { listenerSchema } from "./listener.ts";
import { rateLimitSchema } from "./rate-limit.ts";
import { routeSchema } from "./route.ts";
import { serviceSchema } from "./service.ts";
import { wafSchema } from "./waf.ts";

export const configSchema = z
  .strictObject({
    $schema: z
      .string()
      .optional()
      .meta({ description: "Path or URL of switchyard.schema.json, for editors." }),
    services: z.array(serviceSchema).default([]).meta({ description: "Named pools of backends." }),
    routes: z
      .array(routeSchema)
      .default([])
      .meta({ description: "L7 routes of the worker, matched by specificity, then list order." }),
    forwarding: forwardingSchema,
    listeners: z.array(listenerSchema).default([]).meta({ description: "L4 listeners of the sidecar." }),
    rate_limits: z
      .array(rateLimitSchema)
      .default([])
      .meta({ description: "Rate-limit policies; routes attach them by name (rate_limit)." }),
    waf: wafSchema.prefault({}),
    admin: adminSchema,
  })
  .meta({
    title: "Switchyard config",
    description: "Services, routes and listeners shared by the Switchyard worker and L4 sidecar.",
  });

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export * from "./admin.ts";
export * from "./affinity.ts";
export * from "./forwarding.ts";
export * from "./listener.ts";
export * from "./rate-limit.ts";
export * from "./retry.ts";
export * from "./route.ts";
export * from "./service.ts";
export * from "./waf.ts";
