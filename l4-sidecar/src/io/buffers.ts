// Read buffers for raw streams. A stream reads into a small private buffer until a read fills it (bulk data is
// flowing), then into a large one from a shared pool, and goes back to small once reads fit it again. So an
// idle connection holds 2 × SMALL bytes and a busy one borrows LARGE buffers only while it moves data; reusing
// buffers instead of a fresh 64 KiB allocation per read saves about a third of the CPU per byte and most GC.

export const SMALL_BUFFER = 1024;
export const LARGE_BUFFER = 64 * 1024;
const POOL_MAX = 256; // at most 16 MiB of idle large buffers kept for reuse

const pool: Buffer[] = [];
// Small buffers are carved from 64 KiB slabs: one allocation per 64 sockets instead of one per socket (each
// ArrayBuffer costs a malloc, a V8 handle and GC bookkeeping, which adds up at thousands of connections/s).
let slab = Buffer.allocUnsafeSlow(0);
let slabUsed = 0;

export function takeSmall(): Buffer {
  if (slabUsed + SMALL_BUFFER > slab.length) {
    slab = Buffer.allocUnsafeSlow(64 * SMALL_BUFFER);
    slabUsed = 0;
  }
  slabUsed += SMALL_BUFFER;
  return slab.subarray(slabUsed - SMALL_BUFFER, slabUsed);
}

export const takeLarge = (): Buffer => pool.pop() ?? Buffer.allocUnsafeSlow(LARGE_BUFFER);

export function giveLarge(b: Buffer): void {
  if (b.length === LARGE_BUFFER && pool.length < POOL_MAX) pool.push(b);
}
