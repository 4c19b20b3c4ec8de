// Every default value of the config in one table, so the schema, the docs and the code agree.

export const DEFAULTS = {
  backend: { weight: 1 },
  service: { balance: "round-robin" },
  listener: {
    protocol: "tcp",
    connectTimeout: "5s",
    connectAttempts: 3,
    idleTimeout: "1h",
    maxConnections: 10_000,
    tcpKeepalive: "60s",
    noDelay: true,
  },
  health: { interval: "5s", timeout: "2s", healthy: 2, unhealthy: 3, httpStatus: [200, 399] },
  passive: { failures: 3, eject: "30s" },
  route: { redirectStatus: 302, respondContentType: "text/plain; charset=utf-8" },
  sticky: { cookie: "sy_aff", ttl: "1h" },
  admin: { prefix: "/__switchyard/", refresh: "10s", history: 10 },
  rateLimit: { algorithm: "gcra", action: "block", mode: "exact", onError: "allow", deadline: "50ms" },
  waf: { paranoia: 1, threshold: 5, mode: "block", bodyLimit: "128kb", maxArgs: 255 },
} as const;

export const LIMITS = {
  maxWeight: 1000,
} as const;
