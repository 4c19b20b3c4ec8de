// Header parameters as RFC 7578 and RFC 2183 write them (Content-Disposition, a part's Content-Type):
// `type; name=token; filename="quoted \"value\""; filename*=UTF-8''%e2%82%ac`. Hand-written because the parse
// must report what a lenient backend would read differently (duplicates, junk after a quoted value, a name
// without a value) instead of silently picking one reading.

export interface HeaderParams {
  /** The value before the first ";", lower-cased. */
  type: string;
  /** Parameters by lower-cased name; a `name*` parameter is decoded and stored under `name*`. */
  params: Map<string, string>;
  /** What a strict reader objects to, for the multipart anomaly; empty when the header is clean. */
  problems: string[];
}

const isSpace = (c: string | undefined) => c === " " || c === "\t";

/** RFC 8187 ext-value: charset'language'percent-encoded. */
function extValue(v: string): string {
  const m = /^([\w!#$%&+^`{}~-]*)'[\w-]*'(.*)$/.exec(v);
  if (!m) return v;
  try {
    return decodeURIComponent(m[2]!);
  } catch {
    return m[2]!;
  }
}

export function parseHeaderParams(header: string): HeaderParams {
  const params = new Map<string, string>();
  const problems: string[] = [];
  let i = header.indexOf(";");
  const type = (i === -1 ? header : header.slice(0, i)).trim().toLowerCase();
  if (i === -1) return { type, params, problems };
  const n = header.length;
  while (i < n) {
    // At a ";": skip it and the spaces after.
    i++;
    while (isSpace(header[i])) i++;
    if (i >= n) break;
    const eq = header.indexOf("=", i);
    const semi = header.indexOf(";", i);
    if (eq === -1 || (semi !== -1 && semi < eq)) {
      const bare = header.slice(i, semi === -1 ? n : semi).trim();
      if (bare !== "") problems.push(`parameter without a value: ${bare}`);
      if (semi === -1) break;
      i = semi;
      continue;
    }
    const key = header.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    while (isSpace(header[i])) i++;
    let val: string;
    if (header[i] === '"') {
      let out = "";
      let j = i + 1;
      let closed = false;
      for (; j < n; j++) {
        const c = header[j]!;
        if (c === "\\" && j + 1 < n) out += header[++j];
        else if (c === '"') {
          closed = true;
          break;
        } else out += c;
      }
      if (!closed) problems.push(`unterminated quoted value of ${key}`);
      val = out;
      i = j + 1;
      while (isSpace(header[i])) i++;
      if (i < n && header[i] !== ";") {
        const next = header.indexOf(";", i);
        problems.push(`text after the quoted value of ${key}: ${header.slice(i, next === -1 ? n : next)}`);
        i = next === -1 ? n : next;
      }
    } else {
      const next = header.indexOf(";", i);
      val = header.slice(i, next === -1 ? n : next).trim();
      i = next === -1 ? n : next;
    }
    if (key.endsWith("*")) val = extValue(val);
    if (key === "" || /[^\w!#$%&'*+.^`|~-]/.test(key)) problems.push(`invalid parameter name: ${key}`);
    if (params.has(key)) problems.push(`duplicate parameter ${key}`);
    else params.set(key, val);
  }
  return { type, params, problems };
}
