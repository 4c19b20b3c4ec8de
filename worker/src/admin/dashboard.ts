// The dashboard: one server-rendered page (Hono's html template, no front-end build step) whose small inline
// script asks for the admin token (kept in sessionStorage; also taken from a #token=… fragment, which never
// reaches the server), then polls GET <prefix>stats every 2 seconds and draws routes, backend health, rates,
// latency and status-class charts as inline SVG. The page holds no data itself, so it is served without the token.
// The markup is static apart from the prefix, so a template (escaping what it interpolates) is all it needs; Hono's
// JSX renderer would add about 4 KiB gzipped to the worker bundle for it.
import { html, raw } from "hono/html";

const STYLE = `
:root{--bg:#0f1419;--panel:#171e26;--line:#253040;--text:#e6edf3;--muted:#8b98a8;--accent:#4cc2ff;
--ok:#3fb950;--warn:#d29922;--bad:#f85149;--c1:#8b98a8;--c2:#3fb950;--c3:#4cc2ff;--c4:#d29922;--c5:#f85149}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--text);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header{display:flex;align-items:center;gap:16px;padding:14px 24px;border-bottom:1px solid var(--line);
background:linear-gradient(180deg,#141b23,#0f1419)}
h1{font-size:18px;margin:0;letter-spacing:.3px}h1 span{color:var(--accent)}
.badge{display:inline-flex;gap:6px;align-items:center;padding:3px 10px;border-radius:999px;border:1px solid var(--line);
color:var(--muted);font-size:12px;background:var(--panel)}.badge b{color:var(--text);font-weight:600}
.badge.bad{border-color:var(--bad);color:var(--bad)}.spacer{flex:1}
.live{width:8px;height:8px;border-radius:50%;background:var(--ok);box-shadow:0 0 8px var(--ok)}
.live.stale{background:var(--warn);box-shadow:none}
main{padding:20px 24px;display:grid;gap:20px;max-width:1400px;margin:0 auto}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:14px}
.card{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:14px 16px}
.card .k{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.6px}
.card .v{font-size:26px;font-weight:650;margin-top:4px;font-variant-numeric:tabular-nums}
.card .s{color:var(--muted);font-size:12px}
section{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:16px}
section h2{font-size:13px;margin:0 0 12px;color:var(--muted);text-transform:uppercase;letter-spacing:.6px;font-weight:600}
table{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums}
th{text-align:left;color:var(--muted);font-weight:500;font-size:12px;padding:6px 8px;border-bottom:1px solid var(--line)}
td{padding:8px;border-bottom:1px solid #1d2631;vertical-align:middle}tr:last-child td{border-bottom:0}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;color:#c9d5e3}
.pill{display:inline-block;padding:1px 8px;border-radius:999px;font-size:12px;border:1px solid}
.pill.healthy,.pill.ok{color:var(--ok);border-color:#2a5b34}.pill.unhealthy,.pill.ejected{color:var(--bad);border-color:#6b2b2b}
.pill.unknown,.pill.not-configured{color:var(--muted);border-color:var(--line)}
.bar{display:flex;height:5px;border-radius:3px;overflow:hidden;background:#222c38;width:150px;margin-top:3px}
.legend{display:flex;gap:14px;color:var(--muted);font-size:12px;margin-top:8px}.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.two{display:grid;grid-template-columns:2fr 1fr;gap:20px}@media(max-width:1000px){.two{grid-template-columns:1fr}}
.err{border-color:var(--bad)}.err pre{white-space:pre-wrap;color:#ffb4ae;margin:0;font-size:12px}
.muted{color:var(--muted)}svg text{fill:var(--muted);font-size:10px}
#login{position:fixed;inset:0;background:rgba(8,11,15,.85);display:none;align-items:center;justify-content:center}
#login form{background:var(--panel);border:1px solid var(--line);border-radius:12px;padding:24px;width:360px;display:grid;gap:12px}
#login input{padding:9px 10px;border-radius:8px;border:1px solid var(--line);background:#0f1419;color:var(--text)}
#login button{padding:9px;border-radius:8px;border:0;background:var(--accent);color:#04121c;font-weight:600;cursor:pointer}
`;

const SCRIPT = `
const PREFIX = document.body.dataset.prefix;
const CLASSES = ["1xx","2xx","3xx","4xx","5xx"];
const COLORS = ["var(--c1)","var(--c2)","var(--c3)","var(--c4)","var(--c5)"];
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"]/g, (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;"})[c]);
const fmt = (n, d = 0) => Number.isFinite(n) ? n.toLocaleString(undefined, {maximumFractionDigits: d, minimumFractionDigits: d}) : "–";
const ms = (n) => !Number.isFinite(n) ? "–" : n >= 1000 ? fmt(n / 1000, 2) + " s" : fmt(n, n < 10 ? 1 : 0) + " ms";
const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
if (fromHash) { sessionStorage.setItem("sy_token", fromHash); history.replaceState(null, "", location.pathname); }
let token = sessionStorage.getItem("sy_token");

function zero() { return { requests: 0, classes: [0,0,0,0,0], latency: null, latencySumMs: 0, retries: 0, wafBlocked: 0, wafLogged: 0, rateLimited: 0 }; }
function add(a, b) {
  a.requests += b.requests; a.latencySumMs += b.latencySumMs; a.retries += b.retries;
  a.wafBlocked += b.wafBlocked; a.wafLogged += b.wafLogged; a.rateLimited += b.rateLimited;
  b.classes.forEach((n, i) => a.classes[i] += n);
  if (b.latency) a.latency = a.latency ? a.latency.map((n, i) => n + b.latency[i]) : b.latency.slice();
  return a;
}
function quantile(c, q, bounds) {
  if (!c.latency || c.requests === 0) return NaN;
  const want = q * c.requests; let seen = 0;
  for (let i = 0; i < c.latency.length; i++) {
    const n = c.latency[i];
    if (seen + n >= want && n > 0) {
      const lo = i === 0 ? 0 : bounds[i - 1], hi = i < bounds.length ? bounds[i] : bounds[bounds.length - 1] * 2;
      return lo + (hi - lo) * ((want - seen) / n);
    }
    seen += n;
  }
  return NaN;
}
function buckets(m, route) {
  const out = [], byStart = new Map(m.timeline.map((b) => [b.start, b.routes]));
  const last = m.now - (m.now % m.bucketMs);
  for (let s = last - 59 * m.bucketMs; s <= last; s += m.bucketMs) {
    const routes = byStart.get(s) || {}, c = zero();
    for (const [name, v] of Object.entries(routes)) if (route === undefined || name === route) add(c, v);
    out.push({ start: s, c });
  }
  return out;
}
function rate(bs, m, seconds) {
  const from = m.now - seconds * 1000; let n = 0;
  for (const b of bs) if (b.start + m.bucketMs > from) n += b.c.requests;
  return n / seconds;
}
function stacked(bs, w, h, label = true) {
  const max = Math.max(1, ...bs.map((b) => b.c.requests)), bw = w / bs.length, top = label ? 14 : 2;
  let out = "";
  bs.forEach((b, i) => {
    let y = h;
    b.c.classes.forEach((n, k) => {
      if (!n) return; const bh = (n / max) * (h - top); y -= bh;
      out += '<rect x="' + (i * bw + 1).toFixed(1) + '" y="' + y.toFixed(1) + '" width="' + Math.max(1, bw - 2).toFixed(1) + '" height="' + bh.toFixed(1) + '" fill="' + COLORS[k] + '" rx="1"/>';
    });
  });
  const text = label ? '<text x="2" y="10">' + fmt(max) + ' / 10 s</text>' : "";
  return '<svg viewBox="0 0 ' + w + ' ' + h + '" width="' + (label ? "100%" : w) + '" height="' + h + '" preserveAspectRatio="none">' + out + text + "</svg>";
}
function spark(values, w, h, color) {
  const finite = values.filter(Number.isFinite), max = Math.max(1e-9, ...finite);
  const pts = values.map((v, i) => (i * w / (values.length - 1)).toFixed(1) + "," + (h - 2 - (Number.isFinite(v) ? v / max : 0) * (h - 4)).toFixed(1)).join(" ");
  return '<svg viewBox="0 0 ' + w + ' ' + h + '" width="' + w + '" height="' + h + '"><polyline fill="none" stroke="' + color + '" stroke-width="1.5" points="' + pts + '"/></svg>';
}
function classBar(c) {
  const t = c.requests || 1;
  return '<div class="bar">' + c.classes.map((n, i) => n ? '<span style="width:' + (100 * n / t).toFixed(1) + '%;background:' + COLORS[i] + '"></span>' : "").join("") + "</div>";
}
function render(s) {
  const m = s.metrics, bounds = m.latencyBucketsMs, cfg = s.config;
  $("version").innerHTML = "config <b>" + (cfg.source === "kv" ? "v" + cfg.version : "wrangler.toml") + "</b>" + (cfg.updated_at ? " · " + esc(new Date(cfg.updated_at).toLocaleString()) : "");
  const errs = $("errors"); errs.innerHTML = "reload errors <b>" + cfg.reload_errors + "</b>"; errs.className = "badge" + (cfg.reload_errors ? " bad" : "");
  const all = buckets(m), total = zero();
  for (const c of Object.values(m.series)) add(total, c);
  const recent = zero(); all.slice(-6).forEach((b) => add(recent, b.c));
  $("rps").textContent = fmt(rate(all, m, 60), 2);
  $("total").textContent = fmt(total.requests);
  $("p95").textContent = ms(quantile(recent.requests ? recent : total, 0.95, bounds));
  $("p50").textContent = "p50 " + ms(quantile(recent.requests ? recent : total, 0.5, bounds));
  const err5 = total.requests ? 100 * total.classes[4] / total.requests : 0;
  $("err5").textContent = fmt(err5, 1) + "%";
  $("waf").textContent = fmt(total.wafBlocked);
  $("wafsub").textContent = fmt(total.wafLogged) + " logged";
  $("rl").textContent = fmt(total.rateLimited);
  $("retries").textContent = fmt(total.retries) + " retries";
  $("chart").innerHTML = stacked(all, 900, 140);
  const perRoute = new Map();
  for (const [k, c] of Object.entries(m.series)) { const r = k.split("\\u0001")[0]; perRoute.set(r, add(perRoute.get(r) || zero(), c)); }
  const names = [...new Set([...s.routes.map((r) => r.name), ...perRoute.keys()])];
  $("routes").innerHTML = names.map((name) => {
    const def = s.routes.find((r) => r.name === name), c = perRoute.get(name) || zero(), bs = buckets(m, name);
    const label = name === "" ? '<span class="muted">(no route)</span>' : "<b>" + esc(name) + "</b>";
    return "<tr><td>" + label + (def ? '<div><code>' + esc(def.match) + "</code> → <code>" + esc(def.target) + "</code></div>" : "") +
      '</td><td data-route-requests="' + esc(name) + '">' + fmt(c.requests) + "</td><td>" + fmt(rate(bs, m, 60), 2) +
      "</td><td>" + spark(bs.map((b) => b.c.requests), 120, 28, "var(--accent)") + "</td><td>" + ms(quantile(c, 0.5, bounds)) + " / " + ms(quantile(c, 0.95, bounds)) +
      "</td><td>" + spark(bs.map((b) => quantile(b.c, 0.95, bounds)), 120, 28, "var(--warn)") + "</td><td>" + stacked(bs.slice(-30), 150, 28, false) + classBar(c) +
      "</td><td>" + fmt(c.wafBlocked) + "</td><td>" + fmt(c.rateLimited) + "</td></tr>";
  }).join("") || '<tr><td colspan="9" class="muted">No routes.</td></tr>';
  const attempts = new Map();
  for (const [k, n] of Object.entries(m.attempts)) { const [svc, be, outcome] = k.split("\\u0001"); const key = svc + "\\u0001" + be; const o = attempts.get(key) || {}; o[outcome] = (o[outcome] || 0) + n; attempts.set(key, o); }
  $("services").innerHTML = s.services.map((svc) => svc.backends.map((b, i) => {
    const o = attempts.get(svc.service + "\\u0001" + b.url) || {}, tried = Object.values(o).reduce((a, n) => a + n, 0);
    const failed = (o["connect-failure"] || 0) + (o["reset"] || 0) + (o["timeout"] || 0) + (o["send-failure"] || 0);
    return "<tr><td>" + (i === 0 ? "<b>" + esc(svc.service) + "</b>" : "") + "</td><td><code>" + esc(b.url) + "</code> <span class=muted>w=" + b.weight + "</span>" +
      (b.operator && b.operator.state !== "ready" ? ' <span class="pill unhealthy" title="set by an operator">' + b.operator.state + "</span>" : "") + "</td>" +
      '<td><span class="pill ' + b.active.state + '" title="' + esc(b.active.reason) + '">' + b.active.state + "</span></td>" +
      '<td><span class="pill ' + b.passive.state + '" title="' + esc(b.passive.reason) + '">' + b.passive.state + "</span></td>" +
      "<td>" + fmt(tried) + (failed ? ' <span style="color:var(--bad)">(' + fmt(failed) + " failed)</span>" : "") + "</td></tr>";
  }).join("")).join("") || '<tr><td colspan="5" class="muted">No HTTP services.</td></tr>';
  const le = cfg.last_error;
  $("lasterror").style.display = le ? "" : "none";
  if (le) $("lasterror").innerHTML = "<h2>Last rejected config" + (le.version ? " (v" + le.version + ")" : "") + " · " + esc(new Date(le.at).toLocaleString()) + "</h2><pre>" + esc((le.problems || []).join("\\n")) + "</pre><p class=muted>The last good config keeps serving.</p>";
  $("updated").textContent = "updated " + new Date().toLocaleTimeString();
}
async function tick() {
  if (!token) { $("login").style.display = "flex"; return; }
  try {
    const res = await fetch(PREFIX + "stats", { headers: { authorization: "Bearer " + token }, cache: "no-store" });
    if (res.status === 401) { sessionStorage.removeItem("sy_token"); token = null; $("login").style.display = "flex"; return; }
    render(await res.json());
    $("dot").className = "live";
  } catch (e) { console.error(e); $("dot").className = "live stale"; $("updated").textContent = "disconnected"; }
}
$("login-form").addEventListener("submit", (e) => {
  e.preventDefault(); token = $("token").value.trim(); sessionStorage.setItem("sy_token", token);
  $("login").style.display = "none"; tick();
});
tick(); setInterval(tick, 2000);
`;

/** One number card; `id` is where the script writes the value, `subId` the line under it. */
const card = (label: string, id: string, sub: { id?: string; text?: string } = {}) => html`
  <div class="card">
    <div class="k">${label}</div>
    <div class="v" id="${id}" data-testid="${id}">–</div>
    <div class="s"${sub.id ? html` id="${sub.id}"` : ""}>${sub.text ?? " "}</div>
  </div>`;

const CLASSES = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/** The page for an admin API mounted at `prefix` (which ends with "/"). */
export function dashboardPage(prefix: string) {
  return html`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <meta name="viewport" content="width=device-width, initial-scale=1" />
  <title>Switchyard</title>
  <style>${raw(STYLE)}</style>
</head>
<body data-prefix="${prefix}">
  <header>
    <h1><span>⇄</span> Switchyard</h1>
    <span class="badge" id="version">config …</span>
    <span class="badge" id="errors">reload errors …</span>
    <span class="spacer"></span>
    <span class="muted" id="updated">connecting…</span>
    <span class="live stale" id="dot"></span>
  </header>
  <main>
    <div class="cards">
      ${card("Requests / s (1 min)", "rps")}
      ${card("Requests (total)", "total")}
      ${card("Latency p95 (1 min)", "p95", { id: "p50" })}
      ${card("5xx share", "err5", { id: "retries" })}
      ${card("WAF blocks", "waf", { id: "wafsub" })}
      ${card("Rate-limited", "rl", { text: "429 answers" })}
    </div>
    <section>
      <h2>Requests per 10 s by status class · last 10 minutes</h2>
      <div id="chart"></div>
      <div class="legend">
        ${CLASSES.map((c, i) => html`<span><i style="background:var(--c${i + 1})"></i>${c}</span>`)}
      </div>
    </section>
    <section class="err" id="lasterror" style="display:none"></section>
    <section>
      <h2>Routes</h2>
      <table>
        <thead>
          <tr>
            <th>Route</th><th>Requests</th><th>Req/s</th><th>Traffic</th><th>p50 / p95</th><th>p95 trend</th>
            <th>Status classes</th><th>WAF</th><th>429</th>
          </tr>
        </thead>
        <tbody id="routes"></tbody>
      </table>
    </section>
    <section>
      <h2>Services and backends</h2>
      <table>
        <thead>
          <tr><th>Service</th><th>Backend</th><th>Active check</th><th>Passive</th><th>Attempts</th></tr>
        </thead>
        <tbody id="services"></tbody>
      </table>
    </section>
  </main>
  <div id="login">
    <form id="login-form">
      <h1><span>⇄</span> Switchyard admin</h1>
      <label class="muted" for="token">Admin token (the ADMIN_TOKEN secret)</label>
      <input id="token" type="password" autocomplete="off" />
      <button type="submit">Open dashboard</button>
    </form>
  </div>
  <script>${raw(SCRIPT)}</script>
</body>
</html>
`;
}
