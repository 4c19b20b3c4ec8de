// The chaos control port (chaos-servers.ts), provided by global-setup.ts.
declare module "vitest" {
  export interface ProvidedContext {
    chaos: number;
  }
}

export {};
