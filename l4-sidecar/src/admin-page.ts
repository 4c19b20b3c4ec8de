// The operator's page at the admin endpoint's `/`: one dense table per listener and per service, as HAProxy's
// stats page lays them out (current/max/limit, bytes, errors, check and state columns), with a form per service
// that drains, puts in maintenance or readies the ticked backends. Server-rendered HTML, no script.
import type { Sidecar } from "./sidecar.ts";

export type SidecarStatus = ReturnType<Sidecar["status"]>;
export type StatusView = SidecarStatus & { workers?: number };
type BackendView = SidecarStatus["services"][number]["backends"][number];

const esc = (s: unknown) =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );

/** 1234567 → "1.2M" (the exact figure goes in the title). */
function short(n: number): string {
  if (n < 10_000) return String(n);
  const units = ["k", "M", "G", "T", "P"];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v < 100 ? v.toFixed(1) : Math.round(v)}${units[u]}`;
}

/** A duration as HAProxy prints it: 45s, 12m3s, 5h2m, 3d4h. */
export function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
}

const num = (n: number) => `<td class="n" title="${n}">${short(n)}</td>`;

/** What the State column shows, its colour class and since when it holds. */
export function backendState(b: BackendView): { label: string; cls: string; since: number } {
  if (b.operator === "maint") return { label: "MAINT", cls: "maint", since: b.operator_since };
  const down = !b.healthy
    ? { label: "DOWN", cls: "down", since: b.healthy_since }
    : b.ejected
      ? { label: "EJECTED", cls: "down", since: b.ejected_since ?? 0 }
      : undefined;
  if (b.operator === "drain")
    return {
      label: down ? `DRAIN (${down.label})` : "DRAIN",
      cls: "drain",
      since: Math.max(b.operator_since, down?.since ?? 0),
    };
  if (down) return down;
  return { label: "UP", cls: "up", since: Math.max(b.healthy_since, b.operator_since) };
}

function listenerTable(v: StatusView): string {
  const rows = v.listeners.map((l) => {
    const refused = l.refused.max_connections + l.refused.denied + l.refused.no_backend;
    return `<tr><td class="name">${esc(l.name)}</td><td>${esc(l.listen)}</td><td>${esc(l.protocol)}</td>
<td>${esc(l.data_path ?? "udp")}</td><td>${esc(l.service)}</td>${num(l.active)}${num(l.max_active)}${num(l.max_connections)}
${num(l.total)}<td class="n" title="max_connections ${l.refused.max_connections}, denied ${l.refused.denied}, no backend ${l.refused.no_backend}">${short(refused)}</td>
${num(l.idle_timeouts)}${num(l.bytes_in)}${num(l.bytes_out)}</tr>`;
  });
  return `<table class="t"><caption>Listeners</caption>
<thead><tr><th rowspan="2">Name</th><th rowspan="2">Address</th><th rowspan="2">Proto</th><th rowspan="2">Path</th>
<th rowspan="2">Service</th><th colspan="3">Connections</th><th colspan="3">Sessions</th><th colspan="2">Bytes</th></tr>
<tr><th>Cur</th><th>Max</th><th>Limit</th><th>Total</th><th>Refused</th><th>Idle TO</th><th>In</th><th>Out</th></tr></thead>
<tbody>${rows.join("\n")}</tbody></table>`;
}

function backendRow(b: BackendView, now: number): string {
  const st = backendState(b);
  const errors = b.connect_errors.refused + b.connect_errors.timeout + b.connect_errors.failed;
  const check = b.last_check
    ? `<td class="${b.last_check.ok ? "ok" : "bad"}">${b.last_check.ok ? "L4OK" : "L4FAIL"} ${age(now - b.last_check.at)} ago</td>`
    : "<td>-</td>";
  return `<tr class="${st.cls}"><td><input type="checkbox" name="backend" value="${esc(b.address)}" aria-label="select ${esc(b.address)}"></td>
<td class="name">${esc(b.address)}</td><td class="n">${b.weight}</td><td class="state">${st.label}</td><td class="n">${age(now - st.since)}</td>
${num(b.active)}${num(b.max_active)}<td class="n">${b.max_connections ?? "-"}</td>${num(b.total)}${num(b.bytes_in)}${num(b.bytes_out)}
<td class="n" title="refused ${b.connect_errors.refused}, timeout ${b.connect_errors.timeout}, failed ${b.connect_errors.failed}">${short(errors)}</td>
${check}${num(b.checks)}${num(b.ejections)}</tr>`;
}

function serviceTable(s: StatusView["services"][number], now: number, actions: boolean): string {
  const id = `svc-${esc(s.name)}`;
  const form = actions
    ? `<div class="act"><label>Set ticked backends to <select name="state" aria-label="state for ${esc(s.name)}">
<option value="drain">DRAIN: no new connections</option><option value="maint">MAINT: out of rotation and checks</option>
<option value="ready">READY</option></select></label>
<label>token <input type="password" name="token" autocomplete="current-password" required></label>
<button type="submit">Apply</button></div>`
    : `<div class="act off">Actions are off: start with --admin-token-file to drain or maintain backends here.</div>`;
  return `<form method="post" action="/actions" id="${id}"><input type="hidden" name="service" value="${esc(s.name)}">
<table class="t"><caption>Service ${esc(s.name)} <small>${esc(s.balance)}${s.health_check ? ", checked" : ", no active check"}</small></caption>
<thead><tr><th rowspan="2"></th><th rowspan="2">Backend</th><th rowspan="2">Wght</th><th colspan="2">State</th>
<th colspan="3">Connections</th><th rowspan="2">Total</th><th colspan="2">Bytes</th><th rowspan="2">Conn errs</th>
<th colspan="2">Checks</th><th rowspan="2">Ejections</th></tr>
<tr><th>Now</th><th>For</th><th>Cur</th><th>Max</th><th>Limit</th><th>In</th><th>Out</th><th>Last</th><th>Count</th></tr></thead>
<tbody>${s.backends.map((b) => backendRow(b, now)).join("\n")}</tbody></table>${form}</form>`;
}

const STYLE = `body{font:12px/1.3 system-ui,sans-serif;margin:8px;color:#111;background:#fff}
h1{font-size:15px;margin:0 0 4px}.meta{color:#444;margin-bottom:8px}
table.t{border-collapse:collapse;margin:6px 0 2px;min-width:60%}caption{text-align:left;font-weight:600;
background:#20406a;color:#fff;padding:2px 6px}caption small{font-weight:400;opacity:.85}
th,td{border:1px solid #b8bec8;padding:1px 5px;white-space:nowrap}th{background:#dfe4ea;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums}td.name{font-weight:600}
tr.up td{background:#d8f5d8}tr.down td{background:#ffc8c8}tr.drain td{background:#d6dcff}tr.maint td{background:#e8d6b8}
td.state{font-weight:700}td.bad{color:#a00}.act{margin:2px 0 14px}.act label{margin-right:8px}.off{color:#666}
.legend span{display:inline-block;padding:0 6px;margin-right:4px;border:1px solid #b8bec8}`;

export function renderAdminPage(v: StatusView, now: number, actions: boolean): string {
  const workers = v.workers ? `${v.workers} workers` : "1 process";
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>switchyard-l4</title>
<meta name="viewport" content="width=device-width"><style>${STYLE}</style></head><body>
<h1>switchyard-l4</h1>
<div class="meta">config ${esc(v.version || "-")} · ${workers}${v.draining ? " · <b>draining</b>" : ""} · ${new Date(now).toISOString()} ·
<a href="/">refresh</a> · <a href="/status">status JSON</a> · <a href="/metrics">metrics</a></div>
<div class="legend"><span style="background:#d8f5d8">UP</span><span style="background:#ffc8c8">DOWN / EJECTED</span><span style="background:#d6dcff">DRAIN</span><span style="background:#e8d6b8">MAINT</span></div>
${listenerTable(v)}
${v.services.map((s) => serviceTable(s, now, actions)).join("\n")}
</body></html>`;
}
