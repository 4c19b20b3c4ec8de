#!/usr/bin/env node
import "../l4-sidecar/src/main.ts";
