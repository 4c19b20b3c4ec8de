// A URL in a value (a Referer, a redirect target) carries its own parameters, and a path its own segments; a
// detector that reads a value from its start (the SQL fingerprint, command position) would see only the URL
// or the first segment. This runs it on each parameter or segment too.
import type { Hit } from "./hit.ts";

/** At most this many parameters or segments are read, and segments only of a path up to SEGMENTED_MAX long. */
const MAX_PARAMS = 32;
const SEGMENTED_MAX = 2048;

export function withUrlParams(detect: (text: string) => Hit | undefined): (text: string) => Hit | undefined {
  return (text) => {
    const found = detect(text);
    if (found) return found;
    if (text.startsWith("/") && !text.startsWith("//")) {
      // Each segment is read to the end of the path, so a long path would be read many times over.
      return text.length <= SEGMENTED_MAX ? segments(text, detect) : undefined;
    }
    const q = text.indexOf("?");
    if (q === -1 || !/^(?:[a-z][a-z0-9+.-]{0,15}:)?\/\//.test(text)) return undefined;
    let start = q + 1;
    for (let n = 0; n < MAX_PARAMS && start < text.length; n++) {
      let end = text.indexOf("&", start);
      if (end === -1) end = text.length;
      const eq = text.indexOf("=", start);
      const from = eq !== -1 && eq < end ? eq + 1 : start;
      const hit = from < end ? detect(text.slice(from, end)) : undefined;
      if (hit) return { at: from + hit.at, end: from + hit.end, note: hit.note };
      start = end + 1;
    }
    return undefined;
  };
}

/** Each path segment with the rest of the path after it ("/files/1 or 1=1" reads "1 or 1=1"). */
function segments(path: string, detect: (text: string) => Hit | undefined): Hit | undefined {
  let slash = path.indexOf("/", 1);
  for (let n = 0; n < MAX_PARAMS && slash !== -1 && slash + 1 < path.length; n++) {
    const from = slash + 1;
    const hit = detect(path.slice(from));
    if (hit) return { at: from + hit.at, end: from + hit.end, note: hit.note };
    slash = path.indexOf("/", from);
  }
  return undefined;
}
