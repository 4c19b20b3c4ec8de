// Where the config comes from: a file (wrangler.toml or JSON) or a URL polled with ETag (the worker's admin API
// serves the live config there). Each read yields the raw document; validation happens in the reloader.
import { readFile } from "node:fs/promises";
import { configFromText } from "../../core/config/source.ts";

export type SourceRead = { unchanged: true } | { unchanged?: false; raw: unknown };

export interface ConfigSourceReader {
  /** Human name for logs: the path or URL. */
  readonly where: string;
  read(): Promise<SourceRead>;
}

export function fileSource(path: string): ConfigSourceReader {
  return {
    where: path,
    async read() {
      return { raw: configFromText(await readFile(path, "utf8"), path) };
    },
  };
}

/**
 * Polls `url` with If-None-Match. `token` is sent as `Authorization: Bearer <token>` (the worker's admin API,
 * GET /__switchyard/config, requires its ADMIN_TOKEN).
 */
export function urlSource(url: string, token?: string, timeoutMs = 10_000): ConfigSourceReader {
  let etag: string | undefined;
  const name = new URL(url).pathname.endsWith(".toml") ? "config.toml" : url;
  return {
    where: url,
    async read() {
      const res = await fetch(url, {
        headers: {
          accept: "application/json",
          ...(etag ? { "if-none-match": etag } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (res.status === 304) return { unchanged: true };
      if (!res.ok) throw new Error(`GET ${url} answered ${res.status} ${res.statusText}`);
      const text = await res.text();
      const raw = configFromText(text, name);
      // Remember the ETag only once the body parsed, so a bad document is fetched (and reported) again.
      etag = res.headers.get("etag") ?? undefined;
      return { raw };
    },
  };
}
