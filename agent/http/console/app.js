// The console (docs/api.md): signs in through /api/login, reads the JSON API and follows
// /api/events (Server-Sent Events) for live updates. Every value from the agent is put in the
// page with textContent (never as HTML). Served with a Content-Security-Policy that allows this
// file only: no inline script, nothing from elsewhere.
"use strict";

const state = { csrf: null, account: null, history: {}, zones: [], events: null };
const PAGES = ["overview", "stock", "proposals", "zones", "audit"];
const MAX_POINTS = 360;  // per zone, for the live chart

function $(id) { return document.getElementById(id); }
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}
function row(tbody, cells) {
  const tr = document.createElement("tr");
  for (const c of cells) {
    if (c instanceof Node) { const td = el("td"); td.appendChild(c); tr.appendChild(td); continue; }
    const [text, cls] = Array.isArray(c) ? c : [c, ""];
    tr.appendChild(el("td", text === null || text === undefined ? "—" : text, cls));
  }
  tbody.appendChild(tr);
  return tr;
}
function clear(tbody) { while (tbody.firstChild) tbody.removeChild(tbody.firstChild); }
function num(v, digits) {
  if (v === null || v === undefined) return "—";
  return typeof v === "number" && digits !== undefined ? v.toFixed(digits) : String(v);
}
// Signed actions (docs/api.md, "Signed actions"): the signed-in account signs; its password is
// typed again for every signature, with the reason. The agent checks the role.
const ACTIONS = {
  "alarm-ack": { title: "Acknowledge alarm", meaning: "acknowledged", path: "/api/alarms/ack",
    reason: ["comment", "What was found or done"],
    fields: [["root_cause", "Root cause / corrective action", false, "text"]],
    body: (id) => ({ zone: id }) },
  "hold-release": { title: "Release hold", meaning: "released", path: "/api/holds/release",
    reason: ["why", "Why it is released"],
    fields: [["qty", "Quantity (empty: all that remains)", false, "number"]],
    body: (id) => ({ id: Number(id) }) },
  "hold-writeoff": { title: "Write off hold", meaning: "written off", path: "/api/holds/writeoff",
    reason: ["why", "Why it is written off"],
    fields: [["qty", "Quantity (empty: all that remains)", false, "number"]],
    body: (id) => ({ id: Number(id) }) },
  "proposal-ack": { title: "Mark proposal as ordered", meaning: "ordered", path: "/api/reorders/ack",
    reason: null,
    fields: [["order_number", "Supplier's order number", true, "text"],
             ["qty", "Quantity (empty: as proposed)", false, "number"],
             ["eta", "Expected arrival (2026-12-20; empty: the lead time)", false, "text"]],
    body: (id) => ({ id: String(id) }) },
  "proposal-cancel": { title: "Cancel proposal", meaning: "cancelled", path: "/api/reorders/cancel",
    reason: ["why", "Why it is cancelled"], fields: [], body: (id) => ({ id: String(id) }) },
};
let signing = null;  // {kind, id} while the dialog is open

function actionButton(kind, id, label) {
  const b = el("button", label, "act");
  b.type = "button";
  b.dataset.action = kind;
  b.dataset.id = String(id);
  b.addEventListener("click", () => openSign(kind, id));
  return b;
}
function actionSlot(buttons) {
  const span = el("span", "", "action-slot");
  for (const b of buttons) span.appendChild(b);
  return span;
}
function field(name, label, required, type) {
  const l = el("label", label);
  const input = el(type === "textarea" ? "textarea" : "input");
  input.name = name;
  input.id = "sign-" + name;
  if (type === "number") { input.type = "number"; input.min = "1"; input.step = "1"; }
  if (required) input.required = true;
  l.appendChild(input);
  return l;
}
function openSign(kind, id) {
  const a = ACTIONS[kind];
  signing = { kind, id };
  $("sign-title").textContent = a.title + " " + id;
  $("sign-meaning").textContent = a.meaning;
  $("sign-signer").textContent = state.account;
  const box = $("sign-fields");
  while (box.firstChild) box.removeChild(box.firstChild);
  if (a.reason) box.appendChild(field(a.reason[0], a.reason[1], true, "textarea"));
  for (const [name, label, required, type] of a.fields) box.appendChild(field(name, label, required, type));
  $("sign-password").value = "";
  $("sign-error").textContent = "";
  $("sign").showModal();
}
async function submitSign(ev) {
  ev.preventDefault();
  if (!signing) return;
  const a = ACTIONS[signing.kind];
  const body = a.body(signing.id);
  for (const input of $("sign-fields").querySelectorAll("input, textarea")) {
    if (input.value === "") continue;
    body[input.name] = input.type === "number" ? Number(input.value) : input.value;
  }
  body.password = $("sign-password").value;
  $("sign-submit").disabled = true;
  try {
    const r = await api(a.path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    $("sign").close();
    const s = r.signature || {};
    const detail = r.result && r.result.message ? ": " + r.result.message : "";
    $("notice").textContent = a.title + " " + signing.id + " — " + s.meaning + " by " + s.account + " at " + s.at + detail;
    signing = null;
    route();
  } catch (e) {
    $("sign-error").textContent = e.message;
  } finally {
    $("sign-password").value = "";
    $("sign-submit").disabled = false;
  }
}

async function api(path, options) {
  const opts = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
  if (opts.method && opts.method !== "GET" && state.csrf) opts.headers["X-CSRF-Token"] = state.csrf;
  const res = await fetch(path, opts);
  if (res.status === 401) { showLogin(); throw new Error("signed out"); }
  const body = await res.json();
  if (!res.ok) throw new Error(body.error || res.statusText);
  return body;
}

function showLogin() {
  state.csrf = null;
  if (state.events) { state.events.close(); state.events = null; }
  $("login").hidden = false;
  $("nav").hidden = true;
  $("who").hidden = true;
  for (const p of PAGES) $(p).hidden = true;
}

function showApp(session) {
  state.csrf = session.csrf;
  state.account = session.account;
  $("login").hidden = true;
  $("nav").hidden = false;
  $("who").hidden = false;
  $("who-name").textContent = session.account + " (" + session.role + ")";
  follow();
  route();
}

async function login(ev) {
  ev.preventDefault();
  $("login-error").textContent = "";
  const res = await fetch("/api/login", {
    method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user: $("login-user").value, password: $("login-password").value }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) { $("login-error").textContent = body.error || "sign-in failed"; return; }
  $("login-password").value = "";
  showApp(body);
}

async function logout() {
  try { await api("/api/logout", { method: "POST" }); } catch (e) { /* signed out anyway */ }
  showLogin();
}

function route() {
  if (!state.csrf && state.account === null) return;
  const page = PAGES.includes(location.hash.slice(1)) ? location.hash.slice(1) : "overview";
  for (const p of PAGES) $(p).hidden = p !== page;
  for (const a of document.querySelectorAll("nav a"))
    a.classList.toggle("current", a.getAttribute("href") === "#" + page);
  render(page).catch((e) => { $("live").textContent = "could not load: " + e.message; });
}

async function render(page) {
  if (page === "overview") return renderOverview();
  if (page === "stock") return renderStock();
  if (page === "proposals") return renderProposals();
  if (page === "zones") return renderZones();
  if (page === "audit") return renderAudit();
}

async function renderOverview() {
  const o = await api("/api/overview");
  const cards = $("overview-state");
  while (cards.firstChild) cards.removeChild(cards.firstChild);
  const card = (label, value, cls) => {
    const c = el("div", null, "card");
    c.appendChild(el("span", label, "muted"));
    c.appendChild(el("b", value, cls));
    cards.appendChild(c);
  };
  const h = o.health;
  card("Agent", h.ok ? "healthy" : "needs attention", h.ok ? "ok" : "bad");
  card("Cloud link", h.link ? (h.link.connected ? "connected" : "down") : "not configured",
       h.link && h.link.connected ? "ok" : "warn");
  card("Event loop lag", (h.loop ? h.loop.lag_ms : 0) + " ms", h.loop && h.loop.ok ? "ok" : "bad");
  card("Database", h.database && h.database.ok ? "ok" : "failing", h.database && h.database.ok ? "ok" : "bad");
  const reasons = h.reasons || [];
  if (reasons.length) card("Problems", reasons.join("; "), "bad");
  const outbox = $("outbox").tBodies[0];
  clear(outbox);
  for (const [stream, n] of Object.entries(o.outbox || {})) row(outbox, [stream, [n, "num"]]);
  const sc = $("scanners").tBodies[0];
  clear(sc);
  for (const [id, s] of Object.entries(h.scanners || {}))
    row(sc, [id, [s.ok ? "up" : "DOWN", s.ok ? "ok" : "bad"], [s.clients, "num"], s.problem || ""]);
  const pr = $("probes").tBodies[0];
  clear(pr);
  for (const z of o.zones || [])
    for (const p of z.probes || [])
      row(pr, [z.zone, p.id, [p.state, p.state === "online" ? "ok" : "bad"],
               [num(p.celsius, 1), "num"], p.last ? p.last.at : null]);
}

async function renderStock() {
  const rows = await api("/api/stock?limit=1000");
  const tb = $("stock-table").tBodies[0];
  clear(tb);
  for (const s of rows) {
    const flags = el("span");
    const flag = (t, cls) => flags.appendChild(el("span", t, "flag " + (cls || "")));
    if (s.surge) flag("SURGE", "warn");
    if (s.negative) flag("NEGATIVE", "bad");
    if (s.backordered > 0) flag(s.backordered + " backordered", "warn");
    if (s.expired > 0) flag(s.expired + " expired", "bad");
    if (s.position !== null && s.reorder_point !== null && s.position <= s.reorder_point)
      flag("at/below reorder point", "warn");
    if (s.policy === null) flag("no policy");
    if (!s.active) flag("inactive");
    const tr = row(tb, [s.sku, s.name, [s.on_hand, "num"], [s.held, "num"],
                        [s.reserved, "num"], [s.available, "num"],
                        [num(s.on_order), "num"], [num(s.position), "num"],
                        [num(s.reorder_point, 1), "num"], [num(s.days_of_cover, 1), "num"], flags]);
    tr.dataset.sku = s.sku;
  }
}

function why(p) {
  const n = p.numbers || {};
  const parts = [p.reason];
  if (n.position !== undefined) parts.push("position " + num(n.position));
  if (n.reorder_point !== undefined) parts.push("reorder point " + num(n.reorder_point, 1));
  if (n.order_up_to !== undefined) parts.push("order up to " + num(n.order_up_to, 1));
  if (n.daily_demand !== undefined) parts.push("demand " + num(n.daily_demand, 2) + "/day");
  if (n.days_of_cover !== undefined) parts.push("cover " + num(n.days_of_cover, 1) + " d");
  return parts.join(", ");
}

async function renderProposals() {
  const rows = await api("/api/reorders?limit=200");
  const tb = $("proposals-table").tBodies[0];
  clear(tb);
  for (const p of rows.slice().reverse())
    row(tb, [p.proposal_id, p.sku, [p.state + (p.urgent ? " URGENT" : ""), p.urgent ? "bad" : ""],
             [p.quantity, "num"], p.supplier, p.expected_arrival, why(p),
             actionSlot(p.state === "proposed"
               ? [actionButton("proposal-ack", p.proposal_id, "Ordered…"), actionButton("proposal-cancel", p.proposal_id, "Cancel…")]
               : p.state === "acknowledged" ? [actionButton("proposal-cancel", p.proposal_id, "Cancel…")] : [])]);
}

function levelClass(level) { return level === "alarm" ? "bad" : level === "warning" ? "warn" : "ok"; }

function remember(zone) {
  const h = state.history[zone.zone] || (state.history[zone.zone] = []);
  for (const p of zone.probes || []) {
    if (typeof p.celsius !== "number") continue;
    const t = p.last && p.last.wall_ms ? p.last.wall_ms : Date.now();
    if (h.length && h[h.length - 1].t === t && h[h.length - 1].probe === p.id) continue;
    h.push({ t, c: p.celsius, probe: p.id });
  }
  if (h.length > MAX_POINTS) h.splice(0, h.length - MAX_POINTS);
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  return e;
}

// The zone's readings since the page opened, with its limits and the points outside them.
function chart(zone) {
  const W = 600, H = 200, pad = 30;
  const pts = state.history[zone.zone] || [];
  const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img" });
  s.dataset.zone = zone.zone;
  const values = pts.map((p) => p.c);
  for (const lim of [zone.min_c, zone.max_c]) if (typeof lim === "number") values.push(lim);
  if (!values.length) { s.appendChild(svg("text", { x: pad, y: H / 2, class: "axis" })).textContent = "no readings yet"; return s; }
  let lo = Math.min(...values) - 1, hi = Math.max(...values) + 1;
  const t0 = pts.length ? pts[0].t : 0, t1 = pts.length ? pts[pts.length - 1].t : 1;
  const x = (t) => pad + (t1 === t0 ? (W - 2 * pad) : ((t - t0) / (t1 - t0)) * (W - 2 * pad));
  const y = (c) => H - pad - ((c - lo) / (hi - lo)) * (H - 2 * pad);
  for (const [lim, name] of [[zone.max_c, "max"], [zone.min_c, "min"]]) {
    if (typeof lim !== "number") continue;
    s.appendChild(svg("line", { x1: pad, x2: W - pad, y1: y(lim), y2: y(lim), class: "limit" }));
    s.appendChild(svg("text", { x: 2, y: y(lim) + 4, class: "axis" })).textContent = name + " " + lim;
  }
  if (pts.length) {
    s.appendChild(svg("polyline", { points: pts.map((p) => `${x(p.t)},${y(p.c)}`).join(" "), class: "line" }));
    for (const p of pts) {
      const out = (typeof zone.max_c === "number" && p.c > zone.max_c) || (typeof zone.min_c === "number" && p.c < zone.min_c);
      if (out) s.appendChild(svg("circle", { cx: x(p.t), cy: y(p.c), r: 3, class: "over" }));
    }
  }
  return s;
}

function drawZones() {
  const list = $("zone-list");
  while (list.firstChild) list.removeChild(list.firstChild);
  for (const z of state.zones) {
    const box = el("div", null, "zone");
    box.dataset.zone = z.zone;
    const h = el("h3", z.zone + " ");
    h.appendChild(el("span", z.level || "no state yet", levelClass(z.level)));
    box.appendChild(h);
    // The zone's audit report (the CLI's `report`), built by the agent for the period.
    const links = el("p", "audit report: ", "report-links");
    for (const [label, days] of [["last 24 h", 1], ["7 days", 7], ["30 days", 30]]) {
      const to = new Date();
      const from = new Date(to.getTime() - days * 86400000);
      const a = el("a", label);
      a.href = "/api/report?" + new URLSearchParams({ zone: z.zone, from: from.toISOString(), to: to.toISOString() });
      a.target = "_blank";
      a.rel = "noopener";
      links.appendChild(a);
      links.appendChild(document.createTextNode(" "));
    }
    box.appendChild(links);
    const probes = (z.probes || []).map((p) => p.id + ": " + num(p.celsius, 1) + " °C (" + p.state + ")");
    box.appendChild(el("p", "limits " + num(z.min_c) + " … " + num(z.max_c) + " °C; " + probes.join(", ") +
                             (z.mkt_24h_c !== null && z.mkt_24h_c !== undefined ? "; MKT 24 h " + num(z.mkt_24h_c, 2) + " °C" : ""),
                       "reading"));
    for (const x of z.open_excursions || [])
      box.appendChild(el("p", "excursion " + (x.side || x.alarm_type || "") + " since " + (x.start || "") +
                               (x.peak_c !== undefined ? ", peak " + x.peak_c + " °C" : ""), "bad"));
    box.appendChild(chart(z));
    list.appendChild(box);
  }
}

async function renderZones() {
  state.zones = await api("/api/zones");
  for (const z of state.zones) remember(z);
  drawZones();
  const [alarms, holds] = await Promise.all([api("/api/alarms?limit=100"), api("/api/holds?limit=200")]);
  const at = $("alarms-table").tBodies[0];
  clear(at);
  for (const a of alarms)
    row(at, [a.id || a.output || "", a.zone || "", a.alarm_type || a.reason || "",
             [a.open ? "open" : "closed", a.open ? "bad" : ""], a.start || a.raised_at || "",
             [a.peak_c === undefined ? null : a.peak_c, "num"],
             a.acknowledged ? a.acknowledged.who : null,
             actionSlot(a.zone && !a.output && !a.acknowledged ? [actionButton("alarm-ack", a.zone, "Acknowledge…")] : [])]);
  const ht = $("holds-table").tBodies[0];
  clear(ht);
  for (const h of holds)
    row(ht, [h.id, h.sku, h.zone, [h.qty, "num"], [h.remaining, "num"], h.created_at, h.closed_at,
             actionSlot(h.remaining > 0 && !h.closed_at
               ? [actionButton("hold-release", h.id, "Release…"), actionButton("hold-writeoff", h.id, "Write off…")] : [])]);
}

async function renderAudit() {
  const rows = await api("/api/audit?limit=200");
  const tb = $("audit-table").tBodies[0];
  clear(tb);
  for (const r of rows.slice().reverse()) row(tb, [[r.seq, "num"], r.at, r.who, r.what, r.why]);
}

// Live updates: the agent pushes `zone` (a zone's state), `stock` and `alarm` events.
function follow() {
  if (state.events || !window.EventSource) return;
  const es = new EventSource("/api/events");
  state.events = es;
  es.onopen = () => { $("live").textContent = "live"; };
  es.onerror = () => { $("live").textContent = "live updates interrupted; retrying"; };
  es.addEventListener("zone", (ev) => {
    const z = JSON.parse(ev.data);
    const i = state.zones.findIndex((x) => x.zone === z.zone);
    if (i >= 0) state.zones[i] = Object.assign(state.zones[i], z); else state.zones.push(z);
    remember(z);
    if (!$("zones").hidden) drawZones();
  });
  const refresh = (page) => () => { if (!$(page).hidden) render(page).catch(() => {}); };
  es.addEventListener("stock", refresh("stock"));
  es.addEventListener("alarm", refresh("zones"));
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", (ev) => { login(ev).catch((e) => { $("login-error").textContent = e.message; }); });
  $("logout").addEventListener("click", () => { logout(); });
  $("sign-form").addEventListener("submit", (ev) => { submitSign(ev); });
  $("sign-cancel").addEventListener("click", () => { signing = null; $("sign").close(); });
  window.addEventListener("hashchange", route);
  fetch("/api/session", { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json().then(showApp) : showLogin()))
    .catch(showLogin);
});
