// Types shared by the Node-side global setup and the workerd-side tests.
import type { Env as WorkerEnv } from "../../worker/src/env.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** Ports of the real upstream servers from global-setup.ts. */
    upstreams: { a: number; b: number; c: number; dead: number; reset: number };
  }
}

declare global {
  namespace Cloudflare {
    /** `env` from "cloudflare:workers" has the worker's bindings from wrangler.toml. */
    interface Env extends WorkerEnv {}
    interface GlobalProps {
      mainModule: typeof import("../../worker/src/index.ts");
    }
  }
}
