// The whole Switchyard document: one schema for the worker and the sidecar.
import * as z from "zod/mini";
import type { Describe } from "../describe.ts";
import { fieldDescriptions } from "../fields.ts";
import { adminDescriptions, adminSchema } from "./admin.ts";
import { affinityDescriptions } from "./affinity.ts";
import { forwardingDescriptions, forwardingSchema } from "./forwarding.ts";
import { healthDescriptions } from "./health.ts";
import { listenerDescriptions, listenerSchema } from "./listener.ts";
import { rateLimitDescriptions, rateLimitSchema } from "./rate-limit.ts";
import { retryDescriptions } from "./retry.ts";
import { routeDescriptions, routeSchema } from "./route.ts";
import { serviceDescriptions, serviceSchema } from "./service.ts";
import { wafDescriptions, wafSchema } from "./waf.ts";

export const configSchema = z.strictObject({
  $schema: z.optional(z.string()),
  services: z._default(z.array(serviceSchema), []),
  routes: z._default(z.array(routeSchema), []),
  forwarding: forwardingSchema,
  listeners: z._default(z.array(listenerSchema), []),
  rate_limits: z._default(z.array(rateLimitSchema), []),
  waf: z.prefault(wafSchema, {}),
  admin: adminSchema,
});

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** Every description of the document, for switchyard.schema.json (core/config/json-schema.ts). */
export function configDescriptions(d: Describe): void {
  d(configSchema, {
    title: "Switchyard config",
    description: "Services, routes and listeners shared by the Switchyard worker and L4 sidecar.",
  });
  d.fields(configSchema, {
    $schema: "Path or URL of switchyard.schema.json, for editors.",
    services: "Named pools of backends.",
    routes: "L7 routes of the worker, matched by specificity, then list order.",
    listeners: "L4 listeners of the sidecar.",
    rate_limits: "Rate-limit policies; routes attach them by name (rate_limit).",
  });
  for (const section of [
    fieldDescriptions,
    serviceDescriptions,
    healthDescriptions,
    retryDescriptions,
    affinityDescriptions,
    routeDescriptions,
    forwardingDescriptions,
    listenerDescriptions,
    rateLimitDescriptions,
    wafDescriptions,
    adminDescriptions,
  ]) {
    section(d);
  }
}

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
