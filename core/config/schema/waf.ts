// waf: custom rules in the rules language, the managed ruleset with anomaly scoring, and named policies that
// routes pick; plus the route-level `when` and `waf` fields. Expressions are compiled here, so a bad one is a
// config problem with the path, the column and a caret line.
import * as z from "zod/mini";
import { tryCompileExpression } from "../../rules/index.ts";
import { DEFAULTS } from "../defaults.ts";
import { type Describe, nameDescription } from "../describe.ts";
import type { ConfigProblem } from "../errors.ts";
import { name, size } from "../fields.ts";

/** A rules-language expression, checked (syntax and types) when the config is parsed. */
export const ruleExpression = () =>
  z.string().check(
    z.minLength(1, { error: "an expression cannot be empty" }),
    z.superRefine((text: string, ctx) => {
      const r = tryCompileExpression(text);
      if (!r.ok) ctx.addIssue({ code: "custom", message: r.error.detail });
    }),
  );

export const WAF_ACTIONS = ["block", "log", "skip", "allow"] as const;
export const WAF_MODES = ["block", "log"] as const;
export const WAF_OVERSIZE = ["inspect-prefix", "score", "block"] as const;

export const wafRuleSchema = z
  .strictObject({
    id: name("WAF rule"),
    expression: ruleExpression(),
    action: z.enum(WAF_ACTIONS),
    status: z.optional(z.number().check(z.int(), z.minimum(400), z.maximum(599))),
    body: z.optional(z.string().check(z.maxLength(8192))),
    content_type: z.optional(z.string()),
  })
  .check(
    z.superRefine((r, ctx) => {
      if (r.action !== "block" && (r.status !== undefined || r.body !== undefined)) {
        ctx.addIssue({
          code: "custom",
          message: `status and body only apply to action "block", not "${r.action}"`,
        });
      }
      if (r.content_type !== undefined && r.body === undefined) {
        ctx.addIssue({ code: "custom", path: ["content_type"], message: "content_type needs a body" });
      }
    }),
  );

/** The managed settings a policy or a route may override, without their defaults (managedSchema adds them). */
const managedFields = {
  enabled: z.boolean(),
  paranoia: z
    .number()
    .check(
      z.int(),
      z.minimum(1, { error: "paranoia is 1 to 4" }),
      z.maximum(4, { error: "paranoia is 1 to 4" }),
    ),
  threshold: z.number().check(z.int(), z.minimum(1)),
  mode: z.enum(WAF_MODES),
  oversize: z.enum(WAF_OVERSIZE),
  disabled_rules: z.array(
    z.string().check(z.regex(/^[0-9]{6}$/, { error: 'a managed rule id is six digits, e.g. "942100"' })),
  ),
};

export const managedSchema = z.strictObject({
  enabled: z._default(managedFields.enabled, true),
  paranoia: z._default(managedFields.paranoia, DEFAULTS.waf.paranoia),
  threshold: z._default(managedFields.threshold, DEFAULTS.waf.threshold),
  mode: z._default(managedFields.mode, DEFAULTS.waf.mode),
  disabled_rules: z._default(managedFields.disabled_rules, []),
  oversize: z._default(managedFields.oversize, DEFAULTS.waf.oversize),
  body_limit: z.prefault(size(), DEFAULTS.waf.bodyLimit),
  max_args: z._default(z.number().check(z.int(), z.minimum(1)), DEFAULTS.waf.maxArgs),
  allowed_methods: z.optional(
    z.array(z.string().check(z.regex(/^[A-Za-z]{1,32}$/, { error: "a method is letters only" }))),
  ),
  allowed_content_types: z.optional(
    z.array(
      z.string().check(
        z.regex(/^(?:[\w.+-]+\/[\w.+-]+|[\w.+-]+\/\*|\*\/\*\+[\w.-]+)$/, {
          error: 'a content type is "type/subtype", "type/*" or "*/*+suffix"',
        }),
      ),
    ),
  ),
  allowed_charsets: z.optional(z.array(z.string().check(z.regex(/^[\w.:-]{1,40}$/)))),
});

/** Managed settings a policy or a route may override; unset fields keep the global value. */
export const managedOverrideSchema = z.strictObject({
  enabled: z.optional(managedFields.enabled),
  paranoia: z.optional(managedFields.paranoia),
  threshold: z.optional(managedFields.threshold),
  mode: z.optional(managedFields.mode),
  disabled_rules: z.optional(managedFields.disabled_rules),
  oversize: z.optional(managedFields.oversize),
});

const RESERVED_POLICIES = ["global", "none"];

export const wafPolicySchema = z.strictObject({
  name: name("WAF policy").check(
    z.refine((n: string) => !RESERVED_POLICIES.includes(n), {
      error: 'a WAF policy cannot be called "global" or "none"; those names mean the global rules and no WAF',
    }),
  ),
  rules: z._default(z.array(wafRuleSchema), []),
  managed: z.optional(managedOverrideSchema),
});

export const wafSchema = z.strictObject({
  rules: z._default(z.array(wafRuleSchema), []),
  managed: z.prefault(managedSchema, {}),
  policies: z._default(z.array(wafPolicySchema), []),
  explain_header: z._default(z.boolean(), false),
});

export const routeWafSchema = z.strictObject({
  policy: z.optional(z.string()),
  ...managedOverrideSchema.shape,
});

export const routeWhenSchema = ruleExpression();

export type WafRule = z.output<typeof wafRuleSchema>;
export type WafManaged = z.output<typeof managedSchema>;
export type WafManagedOverride = z.output<typeof managedOverrideSchema>;
export type WafPolicy = z.output<typeof wafPolicySchema>;
export type WafConfig = z.output<typeof wafSchema>;
export type RouteWaf = z.output<typeof routeWafSchema>;

type Raw = Record<string, unknown>;
const list = (v: unknown): Raw[] =>
  Array.isArray(v) ? v.map((x) => (x && typeof x === "object" ? (x as Raw) : {})) : [];

/** Cross-section checks: routes name existing policies; rule ids are unique within a list. */
export function wafCrossReferenceProblems(doc: Raw): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const waf = doc.waf && typeof doc.waf === "object" ? (doc.waf as Raw) : {};
  const policies = list(waf.policies);
  const names = policies.map((p) => p.name).filter((n): n is string => typeof n === "string");
  const uniqueIds = (rules: Raw[], path: string) => {
    const seen = new Map<unknown, number>();
    rules.forEach((r, i) => {
      if (typeof r.id !== "string") return;
      const first = seen.get(r.id);
      if (first !== undefined) {
        problems.push({
          path: `${path}[${i}].id`,
          message: `"${r.id}" is already the id of ${path}[${first}]`,
        });
      } else seen.set(r.id, i);
    });
  };
  uniqueIds(list(waf.rules), "waf.rules");
  policies.forEach((p, i) => {
    uniqueIds(list(p.rules), `waf.policies[${i}].rules`);
    if (typeof p.name === "string" && names.indexOf(p.name) !== i) {
      problems.push({
        path: `waf.policies[${i}].name`,
        message: `another WAF policy is already called "${p.name}"`,
      });
    }
  });
  list(doc.routes).forEach((r, i) => {
    const rw = r.waf && typeof r.waf === "object" ? (r.waf as Raw) : {};
    const policy = rw.policy;
    if (typeof policy === "string" && !RESERVED_POLICIES.includes(policy) && !names.includes(policy)) {
      problems.push({
        path: `routes[${i}].waf.policy`,
        message: `no WAF policy named "${policy}" (policies: ${names.length ? names.join(", ") : "none defined"}; or "global", "none")`,
      });
    }
  });
  return problems;
}

export function wafDescriptions(d: Describe): void {
  d(wafSchema, "The web application firewall of the worker.");
  d.fields(wafSchema, {
    rules: "Custom rules, evaluated in order before the managed ruleset.",
    policies: 'Named policies that routes select with waf = { policy = "name" }.',
    explain_header:
      "Add x-switchyard-waf (action, score, matched rule ids) to responses, and rule ids to block bodies. Default false: the log line always has them.",
  });
  d(wafRuleSchema, "A custom WAF rule: an expression and what to do when it matches.");
  d.fields(wafRuleSchema, {
    id: nameDescription("WAF rule"),
    expression:
      "When the rule applies, in the rules language, e.g. 'http.request.uri.path wildcard \"/admin*\"'.",
    action:
      "block: answer 403 (or status) at once; log: record the match and go on; skip: skip the rest of the WAF (custom and managed) for this request; allow: like skip, and mark the request allowed so later security stages (rate limiting) let it through.",
    status: "Status of the block response. Default 403. Only with action block.",
    body: "Body of the block response instead of the JSON error. Only with action block.",
    content_type: 'Content-Type of a custom body. Default "text/plain; charset=utf-8".',
  });
  d.fields(managedFields, {
    enabled: "Run the managed ruleset. Default true.",
    paranoia:
      "Managed rules up to this paranoia level run: 1 (default) catches clear attacks with no false positives on ordinary traffic; 2-4 add stricter rules that may need tuning.",
    threshold:
      "Anomaly score at which a request is blocked (critical = 5, error = 4, warning = 3, notice = 2). Default 5.",
    mode: "block: answer 403 over the threshold (default); log: only log what would be blocked (dry run).",
    oversize:
      'A body longer than body_limit: "score" (default) adds anomaly 920904 (critical; 920905, a notice, when the cut falls inside an uploaded file), "block" blocks it whatever the score, "inspect-prefix" inspects the first body_limit bytes only and says so in the decision.',
    disabled_rules: 'Ids of managed rules to turn off, e.g. ["942100"] (see docs/waf.md).',
  });
  d(managedSchema, "The built-in ruleset (OWASP CRS style) with anomaly scoring.");
  d.fields(managedSchema, {
    body_limit:
      'Request bodies are inspected up to this size (form and JSON: names and values). Default "128kb"; "0b" turns body inspection off.',
    max_args: "More query and body arguments than this is a protocol anomaly. Default 255.",
    allowed_methods:
      "Methods the protocol checks allow (920800). Default GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS.",
    allowed_content_types:
      'Request Content-Types the protocol checks allow (920813): "type/subtype", "type/*" or "*/*+suffix". Default: form, multipart, JSON and XML (any +json, +xml), NDJSON, GraphQL, text/plain, text/csv, octet-stream, protobuf, gRPC, PDF, zip, gzip, image/*, audio/*, video/*, font/*.',
    allowed_charsets:
      "Charsets the protocol checks allow in Content-Type and Accept (920814, 920818). Default utf-8, iso-8859-1, iso-8859-15, windows-1252, utf-16 (le, be), us-ascii.",
  });
  d(managedOverrideSchema, "Overrides of the global managed-ruleset settings.");
  d(wafPolicySchema, "A named WAF policy: its own custom rules and managed-ruleset settings.");
  d.fields(wafPolicySchema, {
    name: nameDescription("WAF policy"),
    rules: "Custom rules used instead of waf.rules.",
  });
  d(routeWafSchema, "WAF settings of this route: which policy, and managed-ruleset overrides.");
  d.fields(routeWafSchema, {
    policy: 'The WAF policy for this route: "global" (default: waf.rules), "none" (no WAF) or a policy name.',
  });
  d(
    routeWhenSchema,
    'A rules-language expression that must also hold for the route to match, e.g. \'http.request.method in {"GET" "HEAD"}\'.',
  );
}
