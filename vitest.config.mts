// One `vitest run` for every part: core and sidecar tests in Node, worker tests inside workerd.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      { test: { name: "core", include: ["test/core/**/*.test.ts"], environment: "node" } },
      {
        test: {
          name: "sidecar",
          include: ["test/sidecar/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
        },
      },
      "test/*/vitest.config.mts",
      // The fault suite (npm run test:faults): L7 scenarios inside workerd, L4 ones with real sockets in Node.
      "test/faults/l7/vitest.config.mts",
      {
        test: {
          name: "faults-l4",
          include: ["test/faults/l4/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          passWithNoTests: true,
        },
      },
      {
        test: { name: "e2e", include: ["test/e2e/**/*.test.ts"], environment: "node", testTimeout: 120_000 },
      },
    ],
  },
});
