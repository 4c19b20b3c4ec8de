// The editor-facing JSON Schema, generated from the zod schema (the one source of truth) and the descriptions
// declared next to it (see describe.ts); test/core/config.test.ts checks that every field has one.
import * as z from "zod/mini";
import { describer } from "./describe.ts";
import { configDescriptions, configSchema } from "./schema/index.ts";

export function generateJsonSchema(): Record<string, unknown> {
  const registry = z.registry<z.core.GlobalMeta>();
  configDescriptions(describer(registry));
  const schema = z.toJSONSchema(configSchema, { io: "input", target: "draft-2020-12", metadata: registry });
  return schema as Record<string, unknown>;
}
