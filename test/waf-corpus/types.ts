// Shape of a corpus entry: one request, described compactly. Query and form values are written decoded and
// encoded when the request is built, as a browser or an attack tool would send them.

export interface CorpusEntry {
  /** Attack category (matches the managed-rule categories), or a short label for ordinary requests. */
  c: string;
  method?: string;
  /** Path as sent on the wire (may contain %-escapes). Default "/". */
  path?: string;
  /** Query arguments, encoded with encodeURIComponent. */
  args?: Record<string, string>;
  /** Raw query string appended as is (for encodings a tool would send). */
  rawQuery?: string;
  headers?: Record<string, string>;
  /** Form body (application/x-www-form-urlencoded). */
  form?: Record<string, string>;
  /** JSON body. */
  json?: unknown;
  /** Any other body, with its content type. */
  body?: { text: string; type: string };
  note?: string;
}
