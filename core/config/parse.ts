// parseConfig: raw document (object or JSON text) → frozen, typed Config, or a ConfigError listing every problem.

import { en } from "zod/locales";
import { routeWarnings } from "../routing/warnings.ts";
import { crossReferenceProblems } from "./crossref.ts";
import { ConfigError, type ConfigProblem, problemsFromZod } from "./errors.ts";
import { expressionProblems } from "./expressions.ts";
import { routeProblems } from "./route-checks.ts";
import {
  adminSchema,
  type Config,
  configSchema,
  forwardingSchema,
  listenerSchema,
  rateLimitSchema,
  routeSchema,
  serviceSchema,
  wafSchema,
} from "./schema/index.ts";
import { tcpServiceWarnings } from "./tcp-warnings.ts";

/** zod/mini has no messages until given a locale: problems from checks without a custom message quote its
 * English ones ("Too small: expected number to be >=1"). */
const englishMessages = en().localeError;

export interface ConfigCheck {
  config?: Config;
  problems: ConfigProblem[];
  warnings: ConfigProblem[];
}

/**
 * Validates without throwing; `config` is set only when there are no problems. Whatever a check throws (a bug,
 * or a document built to exhaust the stack) becomes a problem at the part of the document that caused it, so
 * `check`, the admin API and a reload all answer with problems and keep serving the last good config.
 */
export function checkConfig(raw: unknown): ConfigCheck {
  try {
    return checkOrThrow(raw);
  } catch (e) {
    return { problems: [thrownProblem(raw, e)], warnings: [] };
  }
}

function checkOrThrow(raw: unknown): ConfigCheck {
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
  const result = configSchema.safeParse(doc, { error: englishMessages });
  const problems = result.success ? [] : problemsFromZod(configSchema, result.error.issues, doc);
  problems.push(...crossReferenceProblems(doc));
  if (result.success) problems.push(...expressionProblems(result.data), ...routeProblems(result.data));
  problems.sort(byDocumentOrder);
  if (problems.length > 0 || !result.success) return { problems, warnings: [] };
  return {
    config: deepFreeze(result.data),
    problems: [],
    warnings: [...routeWarnings(result.data), ...tcpServiceWarnings(doc)],
  };
}

/** Parses and validates a config; throws ConfigError (code SY_CONFIG_INVALID) with every problem. */
export function parseConfig(raw: unknown, source?: string): Config {
  const { config, problems } = checkConfig(raw);
  if (!config) throw new ConfigError(problems, source);
  return config;
}

const LIST_SECTIONS = {
  services: serviceSchema,
  routes: routeSchema,
  listeners: listenerSchema,
  rate_limits: rateLimitSchema,
} as const;
const TABLE_SECTIONS = { forwarding: forwardingSchema, waf: wafSchema, admin: adminSchema } as const;

/** The problem for an exception thrown while checking: at the first list entry or section that throws alone. */
function thrownProblem(raw: unknown, e: unknown): ConfigProblem {
  const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  const message = `this part could not be checked (${what}); simplify it, and report it if it looks valid`;
  const doc = typeof raw === "string" ? safeJson(raw) : raw;
  if (doc === null || typeof doc !== "object") return { path: "", message };
  const d = doc as Record<string, unknown>;
  const throws = (check: () => unknown) => {
    try {
      check();
      return false;
    } catch {
      return true;
    }
  };
  for (const [key, schema] of Object.entries(LIST_SECTIONS)) {
    const list = d[key];
    if (!Array.isArray(list)) continue;
    for (let i = 0; i < list.length; i++)
      if (throws(() => schema.safeParse(list[i]))) return { path: `${key}[${i}]`, message };
  }
  for (const [key, schema] of Object.entries(TABLE_SECTIONS))
    if (d[key] !== undefined && throws(() => schema.safeParse(d[key]))) return { path: key, message };
  return { path: "", message };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
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
