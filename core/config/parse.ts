// parseConfig: raw document (object or JSON text) → frozen, typed Config, or a ConfigError listing every problem.

import { routeWarnings } from "../routing/warnings.ts";
import { crossReferenceProblems } from "./crossref.ts";
import { ConfigError, type ConfigProblem, problemsFromZod } from "./errors.ts";
import { expressionProblems } from "./expressions.ts";
import { type Config, configSchema } from "./schema/index.ts";

export interface ConfigCheck {
  config?: Config;
  problems: ConfigProblem[];
  warnings: ConfigProblem[];
}

/** Validates without throwing; `config` is set only when there are no problems. */
export function checkConfig(raw: unknown): ConfigCheck {
  let doc = raw;
  if (typeof raw === "string") {
    try {
      doc = JSON.parse(raw);
    } catch (e) {
      return {
        problems: [{ path: "", message: `the config is not valid JSON: ${(e as Error).message}` }],
        warnings: [],
      };
    }
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    return {
      problems: [
        {
          path: "",
          message: `the config must be a table (object) with services, routes and listeners, got ${doc === null ? "null" : Array.isArray(doc) ? "a list" : typeof doc}`,
        },
      ],
      warnings: [],
    };
  }
  const result = configSchema.safeParse(doc);
  const problems = result.success ? [] : problemsFromZod(configSchema, result.error.issues, doc);
  problems.push(...crossReferenceProblems(doc));
  if (result.success) problems.push(...expressionProblems(result.data));
  problems.sort(byDocumentOrder);
  if (problems.length > 0 || !result.success) return { problems, warnings: [] };
  return { config: deepFreeze(result.data), problems: [], warnings: routeWarnings(result.data) };
}

/** Parses and validates a config; throws ConfigError (code SY_CONFIG_INVALID) with every problem. */
export function parseConfig(raw: unknown, source?: string): Config {
  const { config, problems } = checkConfig(raw);
  if (!config) throw new ConfigError(problems, source);
  return config;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const collator = new Intl.Collator("en", { numeric: true });
/** `routes[2]` before `routes[10]`, so problems read top to bottom like the file. */
function byDocumentOrder(a: ConfigProblem, b: ConfigProblem): number {
  return collator.compare(a.path, b.path);
}
