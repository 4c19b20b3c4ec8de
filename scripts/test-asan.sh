#!/usr/bin/env bash
# The sidecar's tests once more, on the native engine built with AddressSanitizer and UBSan: a use after free,
# an overflow or undefined behaviour in the engine aborts the test process and fails the run. Part of `npm test`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/l4-sidecar/native/build.sh" --asan
asan="$(cc -print-file-name=libasan.so)"
ubsan="$(cc -print-file-name=libubsan.so)"
# Node's own allocations outlive exit by design: leak reports would be noise, not findings.
LD_PRELOAD="$asan:$ubsan" ASAN_OPTIONS=detect_leaks=0 \
  SWITCHYARD_L4_NATIVE_ADDON="$root/l4-sidecar/native/build/engine-asan.node" SWITCHYARD_L4_DATA_PATH=native \
  npx vitest run --project sidecar test/sidecar/data-path.test.ts test/sidecar/proxy.test.ts \
  test/sidecar/limits.test.ts test/sidecar/reload.test.ts test/sidecar/health.test.ts test/sidecar/tls.test.ts \
  test/sidecar/proxy-protocol.test.ts test/sidecar/splice.test.ts test/sidecar/prelude.test.ts
