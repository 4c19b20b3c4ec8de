// Every default value of the config in one table, so the schema, the docs and the code agree.

export const DEFAULTS = {
  backend: { weight: 1 },
  service: { balance: "round-robin" },
  listener: { protocol: "tcp" },
  rateLimit: { algorithm: "gcra", action: "block", mode: "exact", onError: "allow", deadline: "50ms" },
} as const;

export const LIMITS = {
  maxWeight: 1000,
} as const;
