// The client's request headers as the request path reads them. Each call on workerd's Headers crosses into
// C++ (~3-4k instructions a call, ~3k per header when iterating), and the WAF, the rules view and the upstream
// request each want all of them: so single names are read from workerd until something needs the whole list,
// which is then read once, in one iteration, and serves every later reader in JavaScript.
import type { RuleHeaders } from "../../core/rules/index.ts";

export class RequestHeaders implements RuleHeaders {
  readonly #native: Headers;
  #entries: [string, string][] | undefined;
  #byName: Map<string, string> | undefined;

  constructor(native: Headers) {
    this.#native = native;
  }

  /** Every header: lower-case names, in workerd's order (sorted; repeated names joined, Set-Cookie apart). */
  entries(): readonly [string, string][] {
    if (this.#entries === undefined) {
      const list: [string, string][] = [];
      for (const entry of this.#native as unknown as Iterable<[string, string]>) list.push(entry);
      this.#entries = list;
    }
    return this.#entries;
  }

  /** Headers.get: the value, repeated names joined with ", ", or null. */
  get(name: string): string | null {
    if (this.#entries === undefined) return this.#native.get(name);
    if (this.#byName === undefined) {
      const byName = new Map<string, string>();
      for (const [n, v] of this.#entries) {
        const seen = byName.get(n);
        byName.set(n, seen === undefined ? v : `${seen}, ${v}`);
      }
      this.#byName = byName;
    }
    return this.#byName.get(name.toLowerCase()) ?? null;
  }

  forEach(callback: (value: string, name: string) => void): void {
    for (const [name, value] of this.entries()) callback(value, name);
  }
}
