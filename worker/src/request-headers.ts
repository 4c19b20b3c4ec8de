// The client's request headers as the request path reads them. Each call on workerd's Headers crosses into
// C++ (~3-4k instructions a call, ~3k per header when iterating), and a proxied request needs all of them (the
// upstream request is built from them, and the WAF inspects them): so they are read once, in one iteration,
// when the request starts, and every reader after that (the request id and client IP, trust, matching, rules,
// the WAF, forwarding) looks them up in JavaScript.
import type { RuleHeaders } from "../../core/rules/index.ts";

export class RequestHeaders implements RuleHeaders {
  readonly #entries: [string, string][];
  /** workerd's own Headers, for a copy made inside workerd (the upstream request's). */
  readonly native: Headers;

  constructor(native: Headers) {
    const list: [string, string][] = [];
    native.forEach((value, name) => {
      list.push([name, value]);
    });
    this.#entries = list;
    this.native = native;
  }

  /** Every header: lower-case names, in workerd's order (sorted; repeated names joined, Set-Cookie apart). */
  entries(): readonly [string, string][] {
    return this.#entries;
  }

  /**
   * Headers.get: the value, repeated names joined with ", ", or null. A scan: a request has a few dozen headers
   * at most, fewer than it takes for a map built per request to pay off.
   */
  get(name: string): string | null {
    const n = name.toLowerCase();
    let found: string | null = null;
    for (const [k, v] of this.#entries) {
      if (k === n) found = found === null ? v : `${found}, ${v}`;
    }
    return found;
  }

  forEach(callback: (value: string, name: string) => void): void {
    for (const [name, value] of this.#entries) callback(value, name);
  }
}
