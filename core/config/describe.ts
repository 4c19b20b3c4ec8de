// How the config schema's descriptions are declared: next to each schema, in a function (…Descriptions(d)) that
// only the JSON Schema generator calls. The worker validates with the same schemas but never writes the JSON
// Schema, so its bundle leaves those functions, and the text in them, out.
import type * as z from "zod/mini";

type Meta = z.core.GlobalMeta;
type Schema = z.core.$ZodType;

/** The schema under default/prefault/optional wrappers, whose fields a description table names. */
type Unwrapped<S> = S extends { _zod: { def: { innerType: infer I } } } ? Unwrapped<I> : S;
type FieldTexts<S> = Unwrapped<S> extends { shape: infer T } ? { [K in keyof T]?: string } : never;

export interface Describe {
  /** `schema`'s own description (and title, for the root). */
  (schema: Schema, description: string | Meta): void;
  /** One description per field of an object schema (through its wrappers), or per schema of a plain record. */
  fields<S extends object>(schema: S, texts: FieldTexts<S> | { [K in keyof S]?: string }): void;
}

/** The description of a `name` field, the same words in every section. */
export const nameDescription = (what: string) =>
  `The ${what}'s name; other sections refer to it by this name.`;

/** A Describe that records into `registry`; a schema given two different descriptions is a mistake, so it throws. */
export function describer(registry: z.core.$ZodRegistry<Meta>): Describe {
  const describe = (schema: Schema, description: string | Meta) => {
    const meta = typeof description === "string" ? { description } : description;
    const had = registry.get(schema);
    if (had && had.description !== meta.description) {
      throw new Error(
        `one schema described twice: ${JSON.stringify(had.description)} and ${JSON.stringify(meta.description)}`,
      );
    }
    registry.add(schema, { ...had, ...meta });
  };
  describe.fields = (schema: object, texts: Record<string, string | undefined>) => {
    let target = schema as { _zod?: { def: { innerType?: unknown } }; shape?: Record<string, Schema> };
    while (target._zod?.def.innerType) target = target._zod.def.innerType as typeof target;
    const fields = (target._zod ? target.shape : target) as Record<string, Schema> | undefined;
    for (const [key, text] of Object.entries(texts)) {
      const field = fields?.[key];
      if (!field) throw new Error(`a description for "${key}", which is not a field`);
      if (text !== undefined) describe(field, text);
    }
  };
  return describe;
}
