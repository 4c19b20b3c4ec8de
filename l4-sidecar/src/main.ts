// Entry point of switchyard-l4 (bin/switchyard-l4.mjs imports this file).
import { run } from "./run.ts";

const code = await run(process.argv.slice(2));
// Exit explicitly: Node's teardown after a natural exit can spin on a half-closed handle (seen with a pending
// fs operation on io_uring), and a drained sidecar has nothing left to wait for.
process.exit(code);
