// Stand-ins for bindings that fail, shared by the worker tests and the fault suite: a KV namespace kept apart
// per test by a key prefix, and RateLimiter namespaces whose objects throw or never answer.
import type { LimiterNamespace } from "../../worker/src/rate-limit/client.ts";

/** The real KV namespace with every key under `prefix`: an isolated document store per test. */
export function prefixedKv(kv: KVNamespace, prefix: string): KVNamespace {
  return {
    get: (key: string, o?: unknown) => kv.get(prefix + key, o as "text"),
    getWithMetadata: (key: string, o?: unknown) =>
      kv.getWithMetadata(prefix + key, o as KVNamespaceGetOptions<"text">),
    put: (key: string, value: string, o?: KVNamespacePutOptions) => kv.put(prefix + key, value, o),
    delete: (key: string) => kv.delete(prefix + key),
    list: (o?: KVNamespaceListOptions) => kv.list({ ...o, prefix: prefix + (o?.prefix ?? "") }),
  } as unknown as KVNamespace;
}

/** A RateLimiter namespace whose objects throw on every call. */
export const throwingLimiter: LimiterNamespace = {
  idFromName: (n) => n,
  get: () => ({
    check: () => Promise.reject(new Error("object exploded")),
    lease: () => Promise.reject(new Error("object exploded")),
  }),
};

/** A RateLimiter namespace whose objects never answer. */
export const hangingLimiter: LimiterNamespace = {
  idFromName: (n) => n,
  get: () => ({ check: () => new Promise(() => {}), lease: () => new Promise(() => {}) }),
};
