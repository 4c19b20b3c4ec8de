#!/usr/bin/env node
// Runs the TypeScript CLI with Node's built-in type stripping (Node >= 22.18; npm puts the project's Node 22 first).
import { requireNode } from "./require-node.mjs";

requireNode("switchyard");
const { main } = await import("../cli/switchyard.ts");
process.exitCode = await main(process.argv.slice(2));
