// The worker's bindings, as declared in wrangler.toml.

export interface Env {
  /** The Switchyard config: a table from [vars.SWITCHYARD], or the same document as a JSON string. */
  SWITCHYARD?: unknown;
}
