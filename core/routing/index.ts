// Route matching, runtime-neutral: compile config.routes once, then match request facts in a few map probes.
export * from "./host.ts";
export * from "./path.ts";
export * from "./request.ts";
export { compileRouteTable, type RouteMatch, type RouteTable } from "./table.ts";
