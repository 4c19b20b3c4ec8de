// Request headers Cloudflare's edge writes on every request (it replaces whatever the client sent), in the shape
// the edge writes them. A value of that shape cannot carry an attack, and CF-Ray differs on every request, so
// inspecting it cost each request a full pass that no memo could spare. A value of any other shape (a client
// reaching a local or non-Cloudflare deployment, or a changed format) is inspected like any other header.
const EDGE_SHAPES: ReadonlyMap<string, RegExp> = new Map([
  ["cf-ray", /^[0-9a-f]{16}(?:-[A-Z]{3})?$/],
  // A shape, not parseIp (core/rules): only hex digits, colons and dots pass either way, and parsing an IPv6
  // address (BigInt) costs ~1.7 µs a request against ~0.06 µs for this test.
  ["cf-connecting-ip", /^(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9a-fA-F:.]{2,45})$/],
  ["cf-ipcountry", /^[A-Z0-9]{2}$/],
  ["cf-visitor", /^\{"scheme":"https?"\}$/],
]);

/** Whether a (lower-case) header is one the edge writes, with a value of the shape the edge gives it. */
export function isEdgeWritten(name: string, value: string): boolean {
  if (name.charCodeAt(0) !== 99 /* c */ || name.charCodeAt(1) !== 102 /* f */) return false;
  const shape = EDGE_SHAPES.get(name);
  return shape?.test(value) === true;
}
