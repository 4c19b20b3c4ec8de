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
    maxPreludeConnections: 1_000,
    maxPreludePerSource: 32,
    tcpKeepalive: "60s",
    noDelay: true,
  },
  health: { interval: "5s", timeout: "2s", healthy: 2, unhealthy: 3, httpStatus: [200, 399] },
  passive: { failures: 3, eject: "30s" },
  route: { redirectStatus: 302, respondContentType: "text/plain; charset=utf-8" },
  sticky: { cookie: "sy_aff", ttl: "1h" },
  retry: {
    attempts: 3,
    on: ["connect-failure", "reset", "timeout", "gateway-error"],
    timeout: "30s",
    nonIdempotent: false,
    buffer: "64kb",
    backoff: "25ms",
    backoffMax: "250ms",
    budget: 20,
    budgetMin: 3,
    budgetMinConcurrent: 3,
    attemptHeader: "x-switchyard-attempt",
    attemptsHeader: "x-switchyard-attempts",
  },
  outlier: { consecutive5xx: 5, maxEject: "5m", maxEjectionPercent: 50, panicThreshold: 50 },
  activeHealth: { method: "GET", jitter: "1s" },
  admin: { prefix: "/__switchyard/", refresh: "10s", history: 10 },
  rateLimit: {
    algorithm: "gcra",
    action: "block",
    mode: "exact",
    onError: "allow",
    deadline: "50ms",
    ipv6Prefix: 64,
    ipv4Prefix: 32,
  },
  waf: { paranoia: 1, threshold: 5, mode: "block", bodyLimit: "128kb", maxArgs: 255, oversize: "score" },
} as const;

/**
 * Request headers that claim who the client is or which URL it asked for. Frameworks and backends believe
 * them (X-Real-IP as the client address, X-Original-URL as the real path), so from a client that is not a
 * trusted proxy they are removed; forwarding.strip_untrusted adds more. X-Forwarded-For/-Proto/-Host and
 * Forwarded are rewritten from what the edge saw rather than removed.
 */
export const UNTRUSTED_HEADERS = [
  "x-real-ip",
  "true-client-ip",
  "x-client-ip",
  "x-cluster-client-ip",
  "client-ip",
  "x-originating-ip",
  "x-remote-ip",
  "x-remote-addr",
  "fastly-client-ip",
  "x-forwarded-port",
  "x-forwarded-prefix",
  "x-forwarded-server",
  "x-forwarded-scheme",
  "x-forwarded-ssl",
  "x-forwarded-uri",
  "x-original-forwarded-for",
  "x-original-url",
  "x-original-uri",
  "x-rewrite-url",
  "x-override-url",
  "x-host",
] as const;

export const LIMITS = {
  maxWeight: 1000,
} as const;
