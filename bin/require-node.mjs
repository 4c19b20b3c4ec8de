// The runtime check both commands make before loading any TypeScript: they run .ts files with Node's built-in
// type stripping, which needs Node >= 22.18. package.json's `engines` only says what npm itself needs (npm runs
// on the machine's Node, which may be older), so this is where a wrong Node gets a clear message.
const [major, minor] = process.versions.node.split(".").map(Number);

/** Exits with a message naming the running Node when it cannot run the TypeScript sources. */
export function requireNode(command) {
  if (major > 22 || (major === 22 && minor >= 18)) return;
  process.stderr.write(
    `${command}: needs Node.js >= 22.18 (this is ${process.version}, ${process.execPath}).\n` +
      "Run it through `npx` or `npm run` in the project, which put the project's own Node 22 (the `node`\n" +
      "devDependency) first on PATH, or install Node 22. The sidecar's release (npm run release:sidecar) needs no npm.\n",
  );
  process.exit(1);
}
