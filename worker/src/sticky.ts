// Sticky-session cookies: "<backend id>.<expiry, unix seconds>.<HMAC-SHA256, base64url>", the MAC covering the
// service name too, so a cookie cannot be moved between services or edited. Verification is constant-time
// (crypto.subtle.verify), once per distinct cookie value and isolate (values that verified are remembered); a
// forged, expired or unknown-backend cookie is simply ignored.
import type { Sticky } from "../../core/config/schema/index.ts";

const encoder = new TextEncoder();
let keyCache: { secret: string; key: Promise<CryptoKey> } | undefined;

/** The HMAC key for a secret, imported once per isolate. */
export function stickyKey(secret: string): Promise<CryptoKey> {
  if (keyCache?.secret !== secret) {
    keyCache = {
      secret,
      key: crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
        "sign",
        "verify",
      ]),
    };
  }
  return keyCache.key;
}

const b64url = (bytes: ArrayBuffer) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");

function fromB64url(text: string): Uint8Array | undefined {
  try {
    const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

const payload = (service: string, id: string, expires: number) =>
  encoder.encode(`${service}|${id}|${expires}`);

export async function signAffinity(
  key: CryptoKey,
  service: string,
  id: string,
  expires: number,
): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", key, payload(service, id, expires));
  return `${id}.${expires}.${b64url(mac)}`;
}

/** Cookie values (per key, per service) that verified, so a returning client costs no HMAC per request. */
const verified = new WeakMap<CryptoKey, Map<string, string>>();
export const VERIFIED_CACHE_SIZE = 4096;

/** The backend id a cookie value pins, if it is authentic and not expired at `nowSeconds`. */
export async function verifyAffinity(
  key: CryptoKey,
  service: string,
  value: string | undefined,
  nowSeconds: number,
): Promise<string | undefined> {
  if (!value) return undefined;
  const [id, exp, mac] = value.split(".");
  if (!id || !exp || !mac || !/^[0-9]+$/.test(exp)) return undefined;
  const expires = Number(exp);
  if (expires <= nowSeconds) return undefined;
  // Only values that passed the MAC are remembered, so the cache can never admit a forged one; the expiry
  // above is still checked on every request.
  let seen = verified.get(key);
  const cacheKey = `${service}\n${value}`;
  if (seen?.get(cacheKey) === id) return id;
  const sig = fromB64url(mac);
  if (!sig) return undefined;
  const ok = await crypto.subtle.verify("HMAC", key, sig, payload(service, id, expires));
  if (!ok) return undefined;
  if (!seen) {
    seen = new Map();
    verified.set(key, seen);
  }
  if (seen.size >= VERIFIED_CACHE_SIZE) seen.delete(seen.keys().next().value!);
  seen.set(cacheKey, id);
  return id;
}

/** The Set-Cookie header value for an affinity cookie. */
export function affinityCookie(sticky: Sticky, value: string): string {
  const parts = [
    `${sticky.cookie}=${value}`,
    `Max-Age=${Math.floor(sticky.ttl / 1000)}`,
    `Path=${sticky.path}`,
  ];
  if (sticky.secure) parts.push("Secure");
  if (sticky.http_only) parts.push("HttpOnly");
  parts.push(`SameSite=${sticky.same_site}`);
  return parts.join("; ");
}
