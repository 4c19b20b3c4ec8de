// Reusable zod field types: names, durations, sizes, addresses. Each carries its own user-facing error message.
import * as z from "zod/mini";
import { parseHostPort } from "./address.ts";
import type { Describe } from "./describe.ts";
import { DURATION_PATTERN, parseDuration, parseSize, SIZE_PATTERN } from "./duration.ts";

export const name = (what: string) =>
  z.string().check(
    z.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, {
      error: (iss) =>
        `${JSON.stringify(iss.input)} is not a valid ${what} name: use letters, digits, "-", "_" or "." (at most 63 characters)`,
    }),
  );

/** RFC 9110 §5.1: a field name is a token (tchar: letters, digits and !#$%&'*+-.^_`|~). */
export const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const notHeaderName = (input: unknown) =>
  `${JSON.stringify(input)} is not a header name: use letters, digits and - (an RFC 9110 token: no spaces, colons or quotes)`;

/** A header name; anything else would make every request fail in fetch() (TypeError), so it is refused here. */
export const headerName = () =>
  z.string().check(z.regex(HEADER_NAME, { error: (iss) => notHeaderName(iss.input) }));

/** A table keyed by header name; each bad name is reported at its own key, with the same words as headerName. */
export const headerRecord = <V extends z.core.SomeType>(value: V) =>
  z.record(z.string(), value).check(
    z.superRefine((table: Record<string, unknown>, ctx) => {
      for (const key of Object.keys(table)) {
        if (HEADER_NAME.test(key)) continue;
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: notHeaderName(key),
        });
      }
    }),
  );

/** A header value: CR, LF and NUL would split or end the header (RFC 9110 §5.5), so they are refused. */
export const headerValue = () =>
  z.string().check(
    z.refine((v: string) => !/[\r\n\0]/.test(v), {
      error:
        "a header value may not contain CR, LF or NUL (write several values in one line, comma-separated)",
    }),
  );

export const duration = () =>
  z.pipe(
    z.string({ error: 'expected a duration string such as "250ms", "10s" or "1h"' }).check(
      z.regex(new RegExp(DURATION_PATTERN), {
        error: (iss) =>
          `${JSON.stringify(iss.input)} is not a duration; write it like "250ms", "10s", "5m" or "1h"`,
      }),
    ),
    z.transform((text: string) => parseDuration(text)!),
  );

export const size = () =>
  z.pipe(
    z.string({ error: 'expected a size string such as "64kb" or "1mb"' }).check(
      z.regex(new RegExp(SIZE_PATTERN, "i"), {
        error: (iss) => `${JSON.stringify(iss.input)} is not a size; write it like "512b", "64kb" or "1mb"`,
      }),
    ),
    z.transform((text: string) => parseSize(text)!),
  );

export const hostPort = () =>
  z.string().check(
    z.refine((text: string) => parseHostPort(text) !== undefined, {
      error: (iss) =>
        `${JSON.stringify(iss.input)} is not a host:port address; write it like "10.0.0.5:6379" or "[::1]:5432"`,
    }),
  );

export const httpUrl = () =>
  z.string().check(
    z.refine(
      (text: string) => {
        try {
          const u = new URL(text);
          return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
        } catch {
          return false;
        }
      },
      { error: (iss) => `${JSON.stringify(iss.input)} is not an http:// or https:// URL` },
    ),
  );

export const hostname = z.string().check(
  z.regex(/^(\*\.)?([A-Za-z0-9_]([A-Za-z0-9_-]{0,62})?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})?)*\.?$/, {
    error: (iss) =>
      `${JSON.stringify(iss.input)} is not a host name; use "api.example.com", or "*.example.com" for any subdomain`,
  }),
);

export function fieldDescriptions(d: Describe): void {
  d(
    hostname,
    'A host name, exact ("api.example.com") or wildcard ("*.example.com": one or more labels, not the apex).',
  );
}
