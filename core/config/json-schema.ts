// The editor-facing JSON Schema, generated from the zod schema (the one source of truth).
import * as z from "zod/mini";
import { configSchema } from "./schema/index.ts";

export function generateJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: "input", target: "draft-2020-12" }) as Record<string, unknown>;
}
