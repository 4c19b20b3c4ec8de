// Test helpers: a config pointing at the real upstreams from global-setup.ts, and a way to call the worker's
// app with that config as env.SWITCHYARD (the same code path as a deployed worker, minus the network edge).
import { inject } from "vitest";
import type { ConfigInput } from "../../core/config/index.ts";
import { type AppOptions, createApp } from "../../worker/src/app.ts";

export const upstreams = inject("upstreams");
export const url = (port: number) => `http://127.0.0.1:${port}`;

export interface Echo {
  backend: string;
  method: string;
  path: string;
  search: string;
  headers: Record<string, string>;
  body: { length: number; sha256: string };
}

export function makeCaller(
  config: ConfigInput | string,
  options: AppOptions = {},
  extraEnv: Record<string, unknown> = {},
) {
  const logs: string[] = [];
  const app = createApp({ log: (line) => logs.push(line), ...options });
  const env = { SWITCHYARD: config, ...extraEnv };
  const call = async (input: string, init?: RequestInit): Promise<Response> =>
    app.fetch(new Request(input, init), env);
  return { call, logs };
}

export async function sha256Hex(
  stream: ReadableStream<Uint8Array>,
): Promise<{ hex: string; length: number }> {
  const digest = new crypto.DigestStream("SHA-256");
  let length = 0;
  await stream
    .pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, ctrl) {
          length += chunk.byteLength;
          ctrl.enqueue(chunk);
        },
      }),
    )
    .pipeTo(digest);
  const bytes = new Uint8Array(await digest.digest);
  return { hex: [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(""), length };
}

/** A stream of `n` pseudo-random bytes in 64 KiB chunks, generated as it is read. */
export function generatedBody(n: number, seed = 1): ReadableStream<Uint8Array> {
  let sent = 0;
  let x = seed;
  return new ReadableStream<Uint8Array>({
    pull(ctrl) {
      if (sent >= n) return ctrl.close();
      const size = Math.min(64 * 1024, n - sent);
      const chunk = new Uint8Array(size);
      for (let i = 0; i < size; i++) {
        x = (x * 1103515245 + 12345) & 0x7fffffff;
        chunk[i] = x >>> 16;
      }
      sent += size;
      ctrl.enqueue(chunk);
    },
  });
}
