// Types shared by the Node-side global setup and the workerd-side tests.

declare module "vitest" {
  export interface ProvidedContext {
    /** Ports of the real upstream servers from global-setup.ts. */
    upstreams: { a: number; b: number; c: number; dead: number; reset: number };
  }
}

declare global {
  namespace Cloudflare {
    interface GlobalProps {
      mainModule: typeof import("../../worker/src/index.ts");
    }
  }
}

export {};
