// The "time" field of the worker's and the sidecar's log lines: Date.prototype.toISOString, with the date and
// time of day formatted once per second. The builtin goes through V8's date cache on every call (about 7k
// instructions), which a log line per request or per connection pays at full rate.

let isoSecond = Number.NaN;
let isoPrefix = "";

/** What `new Date(ms).toISOString()` prints, for any order of calls. */
export function isoTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 20); // "2026-12-03T17:02:27."
  }
  const milli = ms - second * 1000;
  return `${isoPrefix}${milli < 10 ? "00" : milli < 100 ? "0" : ""}${milli}Z`;
}
