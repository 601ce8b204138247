// vid-bench monitoring dashboard: plain JavaScript, no framework, no CDN.
// Tables come from GET /api/v1/analytics/dashboard every refresh period; the progress of running
// benchmarks streams over the /api/v1/ws WebSocket (authenticated by its first message), that of each running
// streaming session over its own /api/v1/streaming/ws/{id} socket.
"use strict";

const API = "/api/v1";
const REFRESH_MS = 1000 * parseFloat(document.body.dataset.refreshS || "5");
let credential = sessionStorage.getItem("vdb-credential");
let socket = null;
let subscribed = new Set();
let timer = null;
const streamSockets = new Map();  // stream id -> its WebSocket, while the stream runs
const streamRefused = new Set();  // streams whose socket refused this credential: not asked again

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

function fmt(value, digits = 4) {
  return value === null || value === undefined ? "null" : Number(value).toPrecision(digits);
}

function withCi(stat) {
  if (!stat) return "-";
  const ci = stat.ci95 ? ` [${fmt(stat.ci95[0])}, ${fmt(stat.ci95[1])}]` : "";
  return `${fmt(stat.mean)}${ci} n=${stat.n}`;
}

async function api(path, options = {}) {
  const headers = Object.assign({"Authorization": `Bearer ${credential}`}, options.headers || {});
  const response = await fetch(API + path, Object.assign({}, options, {headers}));
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error((body.error && body.error.message) || response.statusText);
    error.status = response.status;
    throw error;
  }
  return body;
}

// -- sign in -------------------------------------------------------------------------------------
async function signIn(value) {
  credential = value;
  try {
    await refresh();
  } catch (error) {
    credential = null;
    $("signin-error").textContent = `Sign-in refused: ${error.message}`;
    return;
  }
  sessionStorage.setItem("vdb-credential", value);
  $("signin").hidden = true;
  $("board").hidden = false;
  $("signout").hidden = false;
  connect();
  scheduleRefresh();
}

// The next refresh is scheduled once this one has answered, never on a fixed beat: a slow answer (a large
// database, a busy gateway) must not pile requests up behind it.
function scheduleRefresh() {
  timer = setTimeout(async () => {
    try {
      await refresh();
    } catch (error) {
      showRefreshError(error);
    }
    scheduleRefresh();
  }, REFRESH_MS);
}

$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  signIn($("api-key").value.trim());
});

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const response = await fetch(`${API}/auth/login`, {
    method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({username: $("username").value, password: $("password").value}),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    $("signin-error").textContent = `Login refused: ${(body.error && body.error.message) || response.statusText}`;
    return;
  }
  signIn(body.access_token);
});

$("signout").addEventListener("click", (event) => {
  event.preventDefault();
  sessionStorage.removeItem("vdb-credential");
  location.reload();
});

function showRefreshError(error) {
  $("ws-state").textContent = `refresh failed: ${error.message}`;
}

// -- live progress over the WebSocket ------------------------------------------------------------
function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}${API}/ws`);
  subscribed = new Set();
  socket.onopen = () => socket.send(JSON.stringify({type: "authenticate", token: credential}));
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "authenticated") {
      $("ws-state").textContent = "live";
      subscribeRunning();
    } else if (message.type === "benchmark_progress") {
      showProgress(message.benchmark_id, message.data.percentage, message.data.status,
                   `${message.data.completed_prompts}/${message.data.total_prompts}`);
    } else if (message.type === "benchmark_completed") {
      showProgress(message.benchmark_id, 100, "completed", "done");
    } else if (message.type === "benchmark_error") {
      showProgress(message.benchmark_id, null, (message.data && message.data.status) || "failed",
                   (message.data && message.data.error) || "");
    } else if (message.type === "error") {
      $("ws-state").textContent = `socket: ${message.error.message}`;
    }
  };
  socket.onclose = () => {
    $("ws-state").textContent = "offline (reconnecting)";
    setTimeout(() => { if (credential) connect(); }, 2000);
  };
}

function subscribeRunning() {
  if (!socket || socket.readyState !== WebSocket.OPEN) return;
  for (const row of document.querySelectorAll("#running tr[data-id]")) {
    const id = row.dataset.id;
    if (!subscribed.has(id)) {
      subscribed.add(id);
      socket.send(JSON.stringify({type: "subscribe", channel: "benchmark_updates", benchmark_id: id}));
    }
  }
}

function showProgress(id, percentage, status, note) {
  const row = document.querySelector(`#running tr[data-id="${CSS.escape(id)}"]`);
  if (!row) return;
  if (percentage !== null) {
    row.querySelector(".bar > span").style.width = `${percentage}%`;
    row.querySelector(".pct").textContent = `${Number(percentage).toFixed(1)}%`;
    row.dataset.percentage = String(percentage);
  }
  row.querySelector(".status").textContent = status;
  row.querySelector(".note").textContent = note;
}

// -- tables and charts ---------------------------------------------------------------------------
async function refresh() {
  const data = await api("/analytics/dashboard");
  renderRunning(data.running);
  renderLeaderboard(data);
  renderPareto(data);
  renderCluster(data.cluster);
  renderErrors(data.recent_errors);
  renderStreams(data.streams || []);
  subscribeRunning();
}

// -- streaming sessions --------------------------------------------------------------------------
function streamRow(id) {
  return document.querySelector(`#streams tr[data-id="${CSS.escape(id)}"]`);
}

function showStream(id, fields) {
  const row = streamRow(id);
  if (!row) return;
  const pct = fields.percentage;
  // socket and snapshot may disagree by a moment: progress never moves backwards on the page
  if (pct !== undefined && pct !== null && pct >= parseFloat(row.dataset.percentage || "0")) {
    row.dataset.percentage = String(pct);
    row.querySelector(".bar > span").style.width = `${Math.min(100, pct)}%`;
    row.querySelector(".pct").textContent = `${Number(pct).toFixed(1)}%`;
  }
  if (fields.clips !== undefined && fields.clips >= parseInt(row.dataset.clips || "0", 10)) {
    row.dataset.clips = String(fields.clips);
    row.querySelector(".clips").textContent = fields.clips;
  }
  if (fields.status && !(row.dataset.final && !fields.final)) {
    row.querySelector(".status").textContent = fields.status;
    if (fields.final) row.dataset.final = "1";
  }
  if (fields.buffer !== undefined) row.querySelector(".buffer").textContent = fields.buffer;
  if (fields.note !== undefined) row.querySelector(".note").textContent = fields.note;
}

function renderStreams(streams) {
  const body = $("streams");
  const ids = new Set(streams.map((s) => s.stream_id));
  for (const row of [...body.querySelectorAll("tr")]) {
    if (!row.dataset.id || !ids.has(row.dataset.id)) row.remove();
  }
  for (const s of streams) {
    let row = streamRow(s.stream_id);
    if (!row) {
      row = el("tr", {"data-id": s.stream_id, "data-mode": s.mode, "data-duration": s.duration_seconds || 0,
                      "data-prompts": s.prompts},
        el("td", {}, s.stream_id), el("td", {}, s.mode), el("td", {}, s.model_name), el("td", {class: "status"}, s.status),
        el("td", {}, el("span", {class: "bar"}, el("span", {style: "width:0%"})), " ", el("span", {class: "pct"}, "")),
        el("td", {class: "clips"}, "0"), el("td", {class: "buffer"}, "-"), el("td", {class: "note"}, ""));
    }
    body.append(row);  // (re)placed in the snapshot's order: newest first
    showStream(s.stream_id, {percentage: s.percentage, clips: s.clips, status: s.status, final: s.finished,
                             note: s.error || (s.finished ? "" : row.querySelector(".note").textContent)});
    if (s.finished) {
      row.classList.toggle("error", s.status === "failed");
    } else if (!streamSockets.has(s.stream_id) && !streamRefused.has(s.stream_id)) {
      followStream(s.stream_id);
    }
  }
  if (!streams.length) body.append(el("tr", {}, el("td", {colspan: 8, class: "muted"}, "no streaming sessions")));
}

function followStream(id) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}${API}/streaming/ws/${encodeURIComponent(id)}`);
  streamSockets.set(id, ws);
  let frames = 0;
  let answered = 0;
  ws.onopen = () => ws.send(JSON.stringify({type: "authenticate", token: credential}));
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    const row = streamRow(id);
    const data = message.data || {};
    if (!row) return;
    if (message.type === "frame_generated") {
      frames += 1;
      showStream(id, {clips: data.clip_index + 1, note: `frame ${data.frame_id}: ${fmt(data.latency_ms, 3)} ms${data.dropped ? " (dropped)" : ""}`});
    } else if (message.type === "buffer_status") {
      const duration = parseFloat(row.dataset.duration);
      showStream(id, {percentage: duration > 0 ? Math.min(100, (100 * data.time_s) / duration) : undefined,
                      status: "running",
                      buffer: `${Math.round(100 * data.utilization)}% (${data.occupancy}/${data.capacity})`});
    } else if (message.type === "quality_adapted") {
      showStream(id, {note: `quality level ${data.from_level} -> ${data.quality_level}: ${data.reason}`});
    } else if (message.type === "response_measured") {
      answered += 1;
      showStream(id, {percentage: (100 * answered) / Math.max(1, parseInt(row.dataset.prompts, 10)), clips: answered,
                      status: "running", note: `time to first frame ${fmt(data.time_to_first_frame_ms, 3)} ms`});
    } else if (message.type === "stream_started") {
      showStream(id, {status: "running"});
    } else if (message.type === "stream_completed") {
      showStream(id, {percentage: 100, status: "completed", final: true, note: `done: ${frames || answered} ${frames ? "frames" : "responses"}`});
    } else if (message.type === "stream_cancelled") {
      showStream(id, {status: "cancelled", final: true, note: data.reason || ""});
    } else if (message.type === "stream_error") {
      showStream(id, {status: "failed", final: true, note: data.error || ""});
      row.classList.add("error");
    } else if (message.type === "error") {
      streamRefused.add(id);
      showStream(id, {note: `socket: ${(message.error && message.error.message) || "refused"}`});
    }
  };
  ws.onclose = () => {
    // a stream that is still running gets a new socket on the next refresh (it replays from the start)
    streamSockets.delete(id);
  };
}

function renderRunning(running) {
  const body = $("running");
  for (const b of running) {
    let row = body.querySelector(`tr[data-id="${CSS.escape(b.benchmark_id)}"]`);
    const done = b.completed_videos + b.failed_videos;
    const percentage = b.total_videos ? (100 * done) / b.total_videos : 0;
    if (!row) {
      row = el("tr", {"data-id": b.benchmark_id},
        el("td", {}, b.benchmark_id), el("td", {}, b.model_name), el("td", {class: "status"}, b.status),
        el("td", {}, el("span", {class: "bar"}, el("span", {style: "width:0%"})), " ", el("span", {class: "pct"}, "")),
        el("td", {class: "note"}, ""));
      body.prepend(row);
    }
    // the socket may be ahead of this snapshot: progress never moves backwards on the page
    if (percentage >= parseFloat(row.dataset.percentage || "0")) {
      showProgress(b.benchmark_id, percentage, b.status, b.current_task || "");
    }
  }
  // finished benchmarks stay with their last state (from the socket), newest first, at most 20 rows
  for (const row of [...body.querySelectorAll("tr[data-id]")].slice(20)) row.remove();
  if (!body.querySelector("tr")) body.append(el("tr", {}, el("td", {colspan: 5, class: "muted"}, "nothing running")));
  else if (body.querySelector("tr[data-id]")) for (const row of [...body.querySelectorAll("tr:not([data-id])")]) row.remove();
}

function renderLeaderboard(data) {
  $("metric-name").textContent = `(${data.metric}, ${data.higher_is_better ? "higher" : "lower"} is better; ${data.period})`;
  const body = $("leaderboard");
  body.replaceChildren();
  data.leaderboard.forEach((row, i) => body.append(el("tr", {},
    el("td", {}, row.quality ? i + 1 : "-"), el("td", {}, row.model_name), el("td", {}, withCi(row.quality)),
    el("td", {}, withCi(row.latency_ms)), el("td", {}, row.benchmarks))));
  if (!data.leaderboard.length) body.append(el("tr", {}, el("td", {colspan: 5, class: "muted"}, "no completed benchmarks in the period")));
}

function renderPareto(data) {
  const svg = $("pareto");
  const ns = "http://www.w3.org/2000/svg";
  svg.replaceChildren();
  const points = Object.entries(data.pareto.points).filter(([, p]) => p[data.metric] !== null && p.latency_ms !== null);
  const add = (tag, attrs, text) => {
    const node = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    svg.append(node);
    return node;
  };
  const [left, right, top, bottom] = [50, 440, 15, 225];
  add("line", {x1: left, y1: bottom, x2: right, y2: bottom, stroke: "#9ca3af"});
  add("line", {x1: left, y1: top, x2: left, y2: bottom, stroke: "#9ca3af"});
  add("text", {x: (left + right) / 2, y: 250, "text-anchor": "middle"}, "mean latency per video (ms)");
  add("text", {x: 12, y: 120, transform: "rotate(-90 12 120)", "text-anchor": "middle"}, data.metric);
  if (!points.length) {
    add("text", {x: 245, y: 120, "text-anchor": "middle"}, "no model has both figures yet");
    return;
  }
  const xs = points.map(([, p]) => p.latency_ms);
  const ys = points.map(([, p]) => p[data.metric]);
  const span = (values) => { const lo = Math.min(...values), hi = Math.max(...values); return [lo, hi > lo ? hi : lo + 1]; };
  const [x0, x1] = span(xs), [y0, y1] = span(ys);
  const sx = (x) => left + 15 + ((x - x0) / (x1 - x0)) * (right - left - 30);
  const sy = (y) => bottom - 15 - ((y - y0) / (y1 - y0)) * (bottom - top - 30);
  add("text", {x: left, y: bottom + 12}, fmt(x0, 3));
  add("text", {x: right, y: bottom + 12, "text-anchor": "end"}, fmt(x1, 3));
  add("text", {x: left - 4, y: bottom - 15, "text-anchor": "end"}, fmt(y0, 3));
  add("text", {x: left - 4, y: top + 15, "text-anchor": "end"}, fmt(y1, 3));
  const front = new Set(data.pareto.frontier);
  for (const [name, p] of points) {
    const x = sx(p.latency_ms), y = sy(p[data.metric]);
    add("circle", {cx: x, cy: y, r: front.has(name) ? 7 : 5, fill: front.has(name) ? "#2f7d5b" : "#9ca3af"});
    add("text", {x: x + 9, y: y - 6}, name);
  }
}

function renderCluster(cluster) {
  const box = $("cluster");
  box.replaceChildren();
  if (!cluster || cluster.error) {
    box.append(el("p", {class: "error"}, `cluster state unavailable: ${(cluster && cluster.error) || "no answer"}`));
    return;
  }
  const table = el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "node"), el("th", {}, "alive"),
    el("th", {}, "CPU / GPU"), el("th", {}, "replicas"))));
  const body = el("tbody", {});
  for (const node of cluster.nodes || []) {
    const res = node.resources || {};
    const replicas = (node.replicas || []).map((r) => r.replica || r.reason || JSON.stringify(r)).join(", ");
    body.append(el("tr", {}, el("td", {}, node.name || node.id), el("td", {}, node.alive ? "yes" : "no"),
      el("td", {}, `${res.CPU || 0} CPU / ${res.GPU || 0} GPU`), el("td", {}, replicas || "-")));
  }
  table.append(body);
  box.append(table);
  const deployments = el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Serve deployment"),
    el("th", {}, "status"), el("th", {}, "replicas"))));
  const rows = el("tbody", {});
  for (const d of cluster.deployments || []) {
    const states = Object.entries(d.replica_states || {}).map(([state, n]) => `${n} ${state}`).join(", ");
    rows.append(el("tr", {}, el("td", {}, `${d.application}/${d.deployment}`), el("td", {}, d.status), el("td", {}, states || "-")));
  }
  deployments.append(rows);
  box.append(deployments);
}

function renderErrors(errors) {
  const body = $("errors");
  body.replaceChildren();
  for (const e of errors) {
    body.append(el("tr", {}, el("td", {}, new Date(e.at).toLocaleString()), el("td", {}, `${e.kind} ${e.id}`),
      el("td", {}, e.model_name), el("td", {class: "error"}, e.error || "")));
  }
  if (!errors.length) body.append(el("tr", {}, el("td", {colspan: 4, class: "muted"}, "no errors")));
}

if (credential) signIn(credential);
