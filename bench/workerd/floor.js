// The floor under the realistic config (c): the calls into workerd that any worker doing what (c) does must make,
// and no routing logic. It reads every request header once (the WAF inspects them all), copies the request's
// headers and writes the four forwarding headers and the attempt header, fetches under a deadline,
// copies the response to add the two RateLimit headers, and writes one JSON log line. The gap between this and
// the pass-through worker (a) is what the platform charges for those features; Switchyard's own logic is (c)
// minus this. A sketch for measuring, not a router: it matches nothing, inspects nothing, counts nothing.
export default {
  async fetch(request, env) {
    const started = Date.now();
    const url = new URL(request.url);
    let seen = 0;
    for (const [name, value] of request.headers) seen += name.length + value.length;
    const headers = new Headers(request.headers);
    headers.set("x-forwarded-for", request.headers.get("cf-connecting-ip") ?? "");
    headers.set("x-forwarded-proto", url.protocol.slice(0, -1));
    headers.set("x-forwarded-host", url.host);
    headers.set("x-request-id", request.headers.get("cf-ray") ?? crypto.randomUUID());
    headers.set("x-switchyard-attempt", "1");
    // One deadline for the request, as Switchyard's retry.timeout (a timer and a race; no abort signal).
    let timer;
    const deadline = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error("deadline")), 15_000);
    });
    const res = await Promise.race([
      fetch(env.BACKEND + url.pathname + url.search, {
        method: request.method,
        headers,
        body: request.body,
        redirect: "manual",
      }),
      deadline,
    ]);
    clearTimeout(timer);
    const out = new Response(res.body, res);
    out.headers.set("ratelimit-policy", '"per-ip";q=100000000;w=60');
    out.headers.set("ratelimit", '"per-ip";r=99999999;t=60');
    console.log(
      `{"level":"info","time":"${new Date(started).toISOString()}","method":"${request.method}","path":${JSON.stringify(url.pathname)},"status":${out.status},"header_bytes":${seen},"duration_ms":${Date.now() - started},"msg":"request"}`,
    );
    return out;
  },
};
