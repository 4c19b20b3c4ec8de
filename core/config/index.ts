export * from "./address.ts";
export * from "./defaults.ts";
export * from "./duration.ts";
export * from "./errors.ts";
export * from "./parse.ts";
export * from "./schema/index.ts";
export * from "./summary.ts";
