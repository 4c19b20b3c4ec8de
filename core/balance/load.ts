// Load accounting shared by the load-aware selectors: the caller's counter when it keeps one (the sidecar's
// open connections survive reloads that way), else a counter fed by onStart/onEnd.
import type { SelectorOptions } from "./selector.ts";

export interface LoadTracker {
  load(index: number): number;
  onStart(index: number): void;
  onEnd(index: number): void;
}

export function loadTracker(size: number, options: SelectorOptions): LoadTracker {
  if (options.load) {
    const load = options.load;
    return { load, onStart() {}, onEnd() {} };
  }
  const counts = new Array<number>(size).fill(0);
  return {
    load: (i) => counts[i]!,
    onStart(i) {
      counts[i]!++;
    },
    onEnd(i) {
      if (counts[i]! > 0) counts[i]!--;
    },
  };
}
