// Transformation pipelines: a managed rule names the transformations its value goes through (in order), and
// every rule's pipeline joins one prefix tree, so a value's shared prefixes are computed once per value.
import {
  cmdForm,
  cssDecode,
  deepUrlDecode,
  htmlEntityDecode,
  jsDecode,
  normal,
  normalizePath,
  overlongUtf8Decode,
  sqlForm,
} from "./normalize.ts";

const NUL = /\u0000/g;
const NON_ASCII = /[^\u0000-\u007f]/;
const WS = /[^\S\n]+/g;

/** Every transformation a rule can name, CRS's t: names where one exists. */
export const TRANSFORMS = {
  utf8Overlong: overlongUtf8Decode,
  urlDecodeUni: deepUrlDecode,
  htmlEntityDecode,
  jsDecode,
  cssDecode,
  removeNulls: (s: string) => (s.includes("\u0000") ? s.replace(NUL, "") : s),
  nfkc: (s: string) => (NON_ASCII.test(s) ? s.normalize("NFKC") : s),
  lowercase: (s: string) => s.toLowerCase(),
  compressWhitespace: (s: string) => (s.includes("\r") ? s.replace(/\r\n?/g, "\n") : s).replace(WS, " "),
  /** SQL comments become a space; MySQL's executable comments keep their content. */
  removeComments: sqlForm,
  /** Quotes, backslashes and carets inside shell words removed (c'a't, w\ho\am\i, n^et). */
  cmdLine: cmdForm,
  normalizePath,
} satisfies Record<string, (s: string) => string>;

export type Transform = keyof typeof TRANSFORMS;

/** The decoding every text rule starts from; normalize.ts's normal() computes all of it in one fused step. */
export const NORMAL: readonly Transform[] = [
  "utf8Overlong",
  "urlDecodeUni",
  "htmlEntityDecode",
  "jsDecode",
  "removeNulls",
  "nfkc",
  "lowercase",
  "compressWhitespace",
];

/** The pipelines the managed rules use, by what they are for. */
export const T = {
  none: [] as readonly Transform[],
  normal: NORMAL,
  sql: [...NORMAL, "removeComments"] as readonly Transform[],
  cmd: [...NORMAL, "cmdLine"] as readonly Transform[],
  path: [...NORMAL, "normalizePath"] as readonly Transform[],
  css: [...NORMAL, "cssDecode"] as readonly Transform[],
} as const;

interface Node {
  parent: number;
  fn: (s: string) => string;
}

/**
 * A prefix tree of pipelines. Node 0 is the raw value; each other node applies one step to its parent's text.
 * A pipeline that starts with NORMAL reaches it in one fused step (normal()), which equals the seven steps.
 */
export class PipelineTree {
  private readonly nodes: Node[] = [{ parent: -1, fn: (s) => s }];
  private readonly ids = new Map<string, number>([["", 0]]);

  /** The node a pipeline ends at, adding its missing prefixes. */
  intern(pipeline: readonly Transform[]): number {
    let start = 0;
    let node = 0;
    if (NORMAL.every((t, i) => pipeline[i] === t)) {
      node = this.add(NORMAL.join(">"), 0, normal);
      start = NORMAL.length;
    }
    for (let i = start; i < pipeline.length; i++) {
      node = this.add(pipeline.slice(0, i + 1).join(">"), node, TRANSFORMS[pipeline[i]!]);
    }
    return node;
  }

  private add(key: string, parent: number, fn: (s: string) => string): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.nodes.length;
      this.nodes.push({ parent, fn });
      this.ids.set(key, id);
    }
    return id;
  }

  get size(): number {
    return this.nodes.length;
  }

  /** The text at node for a value whose computed forms are in memo (filled as needed; memo[0] is the raw text). */
  text(node: number, memo: Array<string | undefined>): string {
    const have = memo[node];
    if (have !== undefined) return have;
    const n = this.nodes[node]!;
    const out = n.fn(this.text(n.parent, memo));
    memo[node] = out;
    return out;
  }
}

/** A pipeline as explanations show it: "normal" for the NORMAL prefix, then the steps after it. */
export function pipelineName(pipeline: readonly Transform[]): string {
  if (pipeline.length === 0) return "none";
  const normalPrefix = NORMAL.every((t, i) => pipeline[i] === t);
  const rest = normalPrefix ? pipeline.slice(NORMAL.length) : pipeline;
  return [...(normalPrefix ? ["normal"] : []), ...rest].join(",");
}
