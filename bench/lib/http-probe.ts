// Single HTTP requests that check a variant before it is measured: it must answer with nginx's body, and the
// realistic config's features must each leave their trace in a response.
import http, { type IncomingHttpHeaders } from "node:http";
import { BODY } from "./servers.ts";

export interface ProbeResult {
  status: number;
  body: string;
  headers: IncomingHttpHeaders;
}

/** node:http rather than fetch, which would drop the Host header. */
export function get(port: number, path: string, headers: Record<string, string>): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, headers, timeout: 10_000 }, (r) => {
      let body = "";
      r.setEncoding("utf8");
      r.on("data", (d: string) => {
        body += d;
      });
      r.on("end", () => resolve({ status: r.statusCode ?? 0, body, headers: r.headers }));
    });
    req.on("timeout", () => req.destroy(new Error("the probe request timed out")));
    req.on("error", reject);
  });
}

/** Throws unless the answer is nginx's; returns the cookies it sets, which measured requests then send. */
export async function probe(
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<{ res: ProbeResult; cookie?: string }> {
  const res = await get(port, path, headers);
  if (res.status !== 200 || res.body.trim() !== BODY.trim())
    throw new Error(`the probe request got ${res.status} ${res.body.replace(/\s+/g, " ").slice(0, 140)}`);
  const cookies = (res.headers["set-cookie"] ?? []).map((c) => c.split(";")[0]!);
  return { res, cookie: cookies.length > 0 ? cookies.join("; ") : undefined };
}

/** A schema that accepts a feature does not prove the worker runs it: each feature's trace in a response. */
export async function activeFeatures(
  port: number,
  path: string,
  headers: Record<string, string>,
  first: ProbeResult,
): Promise<Record<string, boolean>> {
  const attack = await get(
    port,
    `${path}&id=1%27%20OR%20%271%27%3D%271&q=%3Cscript%3Ealert(1)%3C%2Fscript%3E`,
    headers,
  );
  return {
    "sticky cookies": first.headers["set-cookie"]?.some((c) => c.startsWith("sy_aff=")) ?? false,
    "approximate rate limit": Object.keys(first.headers).some((k) => k.startsWith("ratelimit")),
    "managed WAF": attack.status === 403,
  };
}
