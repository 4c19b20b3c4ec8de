// Worker tests run inside workerd (@cloudflare/vitest-plugin) against real upstream HTTP servers that
// global-setup.ts starts in Node; their ports reach the tests through provide/inject. The worker is built from
// ../../wrangler.toml; its demo SWITCHYARD config is replaced by one pointing at those servers, so
// `exports.default.fetch` exercises the deployed entry point and its env path end to end.
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => {
      const up = inject<{ a: number; b: number }>("upstreams");
      return {
        wrangler: { configPath: "../../wrangler.toml" },
        miniflare: {
          bindings: {
            SWITCHYARD: {
              services: [
                {
                  name: "web",
                  backends: [{ url: `http://127.0.0.1:${up.a}` }, { url: `http://127.0.0.1:${up.b}` }],
                },
              ],
              routes: [
                { name: "web", match: { host: "entry.test" }, service: "web" },
                { name: "limited", match: { host: "limited.test" }, service: "web", rate_limit: "per-ip" },
              ],
              rate_limits: [
                {
                  name: "per-ip",
                  key: "ip.src",
                  limit: 1_000_000,
                  period: "1m",
                  mode: "approximate",
                  lease_size: 2,
                },
              ],
            },
          },
        },
      };
    }),
  ],
  test: {
    name: "worker",
    include: ["**/*.test.ts"],
    globalSetup: ["./global-setup.ts"],
  },
});
