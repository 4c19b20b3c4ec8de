// Entry point of switchyard-l4 (bin/switchyard-l4.mjs imports this file).
import { run } from "./run.ts";

process.exitCode = await run(process.argv.slice(2));
