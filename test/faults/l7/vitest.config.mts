// The fault suite's L7 half: scenarios run inside workerd (@cloudflare/vitest-plugin) against real backends
// (test/worker/chaos-servers.ts) that a scenario kills, restarts, slows down or makes reset connections.
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "../../../wrangler.toml" },
      // Scenarios pass their own config to the app; the demo one must not point at real ports.
      miniflare: { bindings: { SWITCHYARD: { services: [], routes: [] } } },
    }),
  ],
  test: {
    name: "faults-l7",
    include: ["**/*.test.ts"],
    globalSetup: ["./global-setup.ts"],
    testTimeout: 60_000,
  },
});
