// Request path normalisation, done once before matching, rules and forwarding, so "/%61dmin/x", "//admin/x" and
// "/x/../admin/x" all meet the rules and routes written for "/admin/x". RFC 3986 §6.2.2: percent-encoded
// unreserved characters are decoded and the remaining escapes upper-cased; then repeated slashes are merged
// (as nginx's merge_slashes and Envoy's merge_slashes do) and "." and ".." segments resolved (§5.2.4).
// Escaped slashes (%2F, %5C) follow the `forwarding.path` setting, as Envoy's path_with_escaped_slashes_action:
// keep them (a segment may contain a slash), decode them (then they separate segments), or reject the request.

export type EscapedSlashes = "keep" | "decode" | "reject";

/** Thrown for a path with an escaped slash when the setting is "reject". */
export class PathRejected extends Error {
  readonly path: string;
  constructor(path: string) {
    super(`the path contains an escaped slash (%2F or %5C), which forwarding.path = "reject" refuses`);
    this.name = "PathRejected";
    this.path = path;
  }
}

const HEX = "0123456789ABCDEF";

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** RFC 3986 §2.3: ALPHA / DIGIT / "-" / "." / "_" / "~". */
function unreserved(c: number): boolean {
  return (
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    (c >= 48 && c <= 57) ||
    c === 45 ||
    c === 46 ||
    c === 95 ||
    c === 126
  );
}

/**
 * The normalised form of a request path (the part before "?"). Pure and linear in the path's length; the
 * result starts with "/". Throws PathRejected only when `slashes` is "reject".
 */
export function normalizePath(path: string, slashes: EscapedSlashes = "keep"): string {
  // Nearly every request's path is normal already: no escape, no empty segment, no "." or ".." segment (both
  // would follow a "/"). Three scans say so without building the segments.
  if (path.charCodeAt(0) === 47 && !path.includes("%") && !path.includes("//") && !path.includes("/.")) {
    return path;
  }
  // 1. Escapes: decode the unreserved ones (and slashes when asked), upper-case the rest. A "%" that does not
  //    start an escape becomes "%25" (the escape of "%" itself), so a decoded character after it cannot form a
  //    new escape ("%f%41" is "%25fA", not "%fA"), and normalising twice changes nothing.
  let decoded = "";
  let from = 0;
  for (let i = path.indexOf("%"); i !== -1; i = path.indexOf("%", i + 1)) {
    const hi = i + 2 < path.length ? hexValue(path.charCodeAt(i + 1)) : -1;
    const lo = i + 2 < path.length ? hexValue(path.charCodeAt(i + 2)) : -1;
    if (hi < 0 || lo < 0) {
      decoded += `${path.slice(from, i)}%25`;
      from = i + 1;
      continue;
    }
    const byte = hi * 16 + lo;
    let replacement: string;
    if (unreserved(byte)) replacement = String.fromCharCode(byte);
    else if (byte === 0x2f || byte === 0x5c) {
      if (slashes === "reject") throw new PathRejected(path);
      replacement = slashes === "decode" ? "/" : `%${HEX[hi]}${HEX[lo]}`;
    } else replacement = `%${HEX[hi]}${HEX[lo]}`;
    decoded += path.slice(from, i) + replacement;
    from = i + 3;
    i += 2;
  }
  decoded = from === 0 ? path : decoded + path.slice(from);

  // 2. Segments: empty ones (repeated slashes) dropped, "." dropped, ".." removes the one before it.
  const segments = decoded.split("/");
  const out: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    if (s === "" || s === ".") continue;
    if (s === "..") out.pop();
    else out.push(s);
  }
  // A trailing slash (or a final "." / "..") names a directory: keep it, as RFC 3986's algorithm does.
  const last = segments[segments.length - 1];
  const trailing = out.length > 0 && (last === "" || last === "." || last === "..");
  return `/${out.join("/")}${trailing ? "/" : ""}`;
}
