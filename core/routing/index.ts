// Route matching, runtime-neutral: compile config.routes once, then match request facts in a few map probes.
export type { Entry, PathKey, TemplateSegment, ValueCond } from "./compile.ts";
export * from "./host.ts";
export * from "./path.ts";
export * from "./request.ts";
export * from "./rewrite.ts";
export { compileRouteTable, type RouteMatch, type RouteTable } from "./table.ts";
export { routeWarnings } from "./warnings.ts";
