// How the config schema uses zod: zod/mini (about a third of classic zod's size in the worker bundle) with the
// English issue messages classic zod installed by itself, and meta() in place of classic's `.meta()`.
import { en } from "zod/locales";
import * as z from "zod/mini";

// Config problems quote zod's own message for checks without a custom error ("Too small: expected number to
// be >=1"); zod/mini has no locale until one is configured.
z.config(en());

/** A copy of `schema` carrying `data` (a field's description) for switchyard.schema.json, as classic zod's
 * `.meta(data)` made it: a clone registered in the global registry that z.toJSONSchema reads. */
export function meta<T extends z.ZodMiniType>(schema: T, data: z.core.GlobalMeta): T {
  const copy = schema.clone();
  z.globalRegistry.add(copy, data);
  return copy;
}
