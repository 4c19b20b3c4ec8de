// The release version of both commands (`switchyard --version`, `switchyard-l4 --version`): package.json's, so a
// bundle built by `npm run release:sidecar` carries the version it was built from.
import pkg from "../package.json" with { type: "json" };

export const VERSION: string = pkg.version;
