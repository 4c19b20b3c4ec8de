// What every bench section gets: the mode, where to write, the process registry, the results and a deadline.
import type { Procs } from "./procs.ts";
import type { Results } from "./results.ts";

export interface Bundle {
  dir: string;
  wranglerToml: string;
}

export interface BenchContext {
  root: string;
  tmp: string;
  quick: boolean;
  procs: Procs;
  results: Results;
  /** The production bundle, or why there is none. */
  bundle: Bundle | { error: string };
  /** Epoch ms after which sections should not start more measurements. */
  deadline: number;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
