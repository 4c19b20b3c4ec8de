#!/usr/bin/env node
// Runs the sidecar from the TypeScript sources (Node >= 22.18); the release (npm run release:sidecar) is a bundle.
import { requireNode } from "./require-node.mjs";

requireNode("switchyard-l4");
await import("../l4-sidecar/src/main.ts");
