// Rules-language checks at load time: every expression in the config is compiled once here, so a syntax or
// type error is a config problem with its path (and a caret line), never a per-request surprise.

import { RuleError, tryCompileExpression } from "../rules/index.ts";
import { compileKeyExpression } from "../rules/key.ts";
import type { ConfigProblem } from "./errors.ts";
import type { Config } from "./schema/index.ts";

export function expressionProblems(config: Config): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  // RuleError renders the location and caret itself (the WAF schema reports its expressions the same way).
  const fromError = (path: string, e: RuleError): ConfigProblem => ({ path, message: e.detail });

  config.rate_limits.forEach((rl, i) => {
    const keys = Array.isArray(rl.key) ? rl.key : [rl.key];
    keys.forEach((k, j) => {
      const path = Array.isArray(rl.key) ? `rate_limits[${i}].key[${j}]` : `rate_limits[${i}].key`;
      try {
        compileKeyExpression(k, path);
      } catch (e) {
        if (!(e instanceof RuleError)) throw e;
        problems.push(fromError(path, e));
      }
    });
    if (rl.match !== undefined) {
      const r = tryCompileExpression(rl.match, { name: `rate_limits[${i}].match` });
      if (!r.ok) problems.push(fromError(`rate_limits[${i}].match`, r.error));
    }
  });
  return problems;
}
