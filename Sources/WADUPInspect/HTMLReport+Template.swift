extension HTMLReport {
    /// The page: styles and script inline; the data replaces the marker inside the JSON script element.
    static let template = #"""
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="wadup report">
<title>WADUP report</title>
<style>
:root { --fg:#1d2430; --muted:#5b6575; --line:#d9dee7; --bg:#f6f7f9; --card:#fff; --accent:#2457c5;
  --ok:#1a7f37; --bad:#c42b1c; --skip:#9a6700; --dup:#6639ba; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color:var(--fg); background:var(--bg); }
header { padding:14px 20px 8px; background:var(--card); border-bottom:1px solid var(--line); }
h1 { font-size:18px; margin:0 0 10px; } h1 small { color:var(--muted); font-weight:normal; }
h2 { font-size:15px; margin:14px 0 6px; } h3 { font-size:13px; margin:12px 0 4px; }
.cards { display:flex; flex-wrap:wrap; gap:8px; }
.card { background:var(--bg); border:1px solid var(--line); border-radius:6px; padding:6px 12px; min-width:92px; }
.card b { display:block; font-size:17px; } .card span { color:var(--muted); font-size:12px; }
main { padding:10px 20px 20px; }
details.section { background:var(--card); border:1px solid var(--line); border-radius:6px; margin-bottom:10px; padding:6px 12px; }
details.section > summary { cursor:pointer; font-weight:600; }
table.grid { border-collapse:collapse; margin:6px 0; font-size:13px; }
table.grid th, table.grid td { border:1px solid var(--line); padding:3px 8px; text-align:left; vertical-align:top; max-width:520px; overflow-wrap:anywhere; }
table.grid th { background:var(--bg); font-weight:600; } td.num { text-align:right; font-variant-numeric:tabular-nums; }
.explorer { display:grid; grid-template-columns:minmax(380px, 1fr) minmax(380px, 1fr); gap:10px; }
.pane { background:var(--card); border:1px solid var(--line); border-radius:6px; min-width:0; }
.toolbar { display:flex; gap:8px; padding:8px; border-bottom:1px solid var(--line); flex-wrap:wrap; align-items:center; }
.toolbar input { flex:1; min-width:180px; padding:5px 8px; border:1px solid var(--line); border-radius:4px; font:inherit; }
.toolbar select, .toolbar button { padding:4px 8px; font:inherit; border:1px solid var(--line); border-radius:4px; background:var(--card); }
#results { max-height:220px; overflow:auto; border-bottom:1px solid var(--line); display:none; font-size:13px; }
#results div { padding:3px 10px; cursor:pointer; white-space:nowrap; overflow:hidden; text-overflow:ellipsis; }
#results div:hover { background:#eef2fb; } #results .count { color:var(--muted); cursor:default; }
#tree { height:70vh; overflow:auto; position:relative; font-size:13px; }
#spacer { position:relative; }
#rows { position:absolute; left:0; right:0; top:0; }
.row { height:24px; line-height:24px; white-space:nowrap; cursor:pointer; display:flex; gap:8px; padding-right:8px; }
.row:hover { background:#f0f3f9; } .row.sel { background:#dfe8fb; }
.tg { width:14px; flex:none; text-align:center; color:var(--muted); } .tg.has:hover { color:var(--accent); }
.nm { overflow:hidden; text-overflow:ellipsis; } .sz { color:var(--muted); flex:none; }
.st { flex:none; font-size:11px; padding:0 6px; border-radius:8px; line-height:18px; margin-top:3px; border:1px solid currentColor; }
.s0 { color:var(--ok); } .s1 { color:var(--bad); } .s2 { color:var(--skip); } .s3 { color:var(--dup); }
.mods { color:var(--muted); flex:none; font-size:12px; }
.ty { color:var(--muted); flex:none; font-size:11px; }
.meta { color:var(--muted); flex:none; font:11px ui-monospace, "DejaVu Sans Mono", monospace; }
#detail { padding:10px 14px; overflow:auto; height:calc(70vh + 43px); }
#detail .empty { color:var(--muted); } .mono { font-family:ui-monospace, "DejaVu Sans Mono", monospace; font-size:12px; }
a { color:var(--accent); text-decoration:none; } a:hover { text-decoration:underline; }
.chain a::after { content:" / "; color:var(--muted); } .chain a:last-child::after { content:""; }
pre { background:var(--bg); padding:8px; border-radius:4px; overflow:auto; font-size:12px; }
.fail { color:var(--bad); }
.fstree details { margin-left:14px; } .fstree > details { margin-left:0; } .fstree summary { cursor:pointer; }
.fstree .leaf { margin-left:28px; white-space:nowrap; } .fstree .del { color:var(--bad); text-decoration:line-through; }
.fstree small { color:var(--muted); font:11px ui-monospace, "DejaVu Sans Mono", monospace; }
@media (max-width: 900px) { .explorer { grid-template-columns:1fr; } }
</style>
</head>
<body>
<header>
<h1>WADUP report <small id="title"></small></h1>
<div class="cards" id="cards"></div>
</header>
<main>
<details class="section" id="run-section"><summary>Run</summary><div id="run"></div></details>
<details class="section" id="modules-section"><summary>Modules</summary><div id="modules"></div></details>
<details class="section" id="failures-section"><summary>Failures</summary><div id="failures"></div></details>
<div class="explorer">
 <div class="pane">
  <div class="toolbar">
   <input id="q" type="search" placeholder="Search name, path, uuid or sha256" autocomplete="off">
   <select id="status" title="Show only contents with this status">
    <option value="">all statuses</option><option value="1">failed</option><option value="2">skipped</option><option value="3">duplicate</option>
   </select>
   <select id="type" title="Show only contents of this type (as the identifying module reported it)"><option value="">all types</option></select>
   <button id="expand" type="button">Expand all</button><button id="collapse" type="button">Collapse</button>
  </div>
  <div id="results"></div>
  <div id="tree"><div id="spacer"><div id="rows"></div></div></div>
 </div>
 <div class="pane"><div id="detail"><p class="empty">Select a content to see its record, its parent chain and every module's rows.</p></div></div>
</div>
</main>
<script type="application/json" id="wadup-data">/*WADUP_DATA*/</script>
<script>
"use strict";
(function () {
const D = JSON.parse(document.getElementById("wadup-data").textContent);
const C = D.c, N = C.uuid.length, ROW = 24;
const STATUS = D.statuses;
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]);
const fmtBytes = (n) => { if (n === null || n === undefined) return "-"; const u = ["B", "kB", "MB", "GB", "TB"]; let v = n, k = 0; while (v >= 1000 && k < u.length - 1) { v /= 1000; k++; } return k === 0 ? n + " B" : v.toFixed(1) + " " + u[k]; };
const fmtTime = (s) => s === null || s === undefined ? "-" : new Date(s * 1000).toISOString().replace("T", " ").replace(".000Z", " UTC");
const link = (i, text) => '<a href="#" data-go="' + i + '">' + esc(text === undefined ? C.name[i] : text) + "</a>";

// Children as one flat array: the contents are in depth-first order, so a parent's children are in order.
const kids = new Int32Array(N + 1), roots = [];
for (let i = 0; i < N; i++) { const p = C.parent[i]; if (p >= 0) kids[p + 1]++; else roots.push(i); }
for (let i = 0; i < N; i++) kids[i + 1] += kids[i];
const childList = new Int32Array(Math.max(kids[N], 1)), fill = kids.slice(0, N);
for (let i = 0; i < N; i++) { const p = C.parent[i]; if (p >= 0) childList[fill[p]++] = i; }
const childrenOf = (i) => childList.subarray(kids[i], kids[i + 1]);

// Rows of each table are sorted by content: a content's rows are found by binary search.
const lower = (rows, i) => { let lo = 0, hi = rows.length; while (lo < hi) { const m = (lo + hi) >> 1; if (rows[m][0] < i) lo = m + 1; else hi = m; } return lo; };
const rowsOf = (t, i) => { const rows = D.rows[t], a = lower(rows, i), b = lower(rows, i + 1); return rows.slice(a, b); };
const owners = [];
D.tables.forEach((t, k) => { let o = owners.find((x) => x.name === t.module); if (!o) owners.push(o = { name: t.module, tables: [] }); o.tables.push(k); });
const rowCounts = (i) => owners.map((o) => { let n = 0; for (const t of o.tables) { const r = D.rows[t]; n += lower(r, i + 1) - lower(r, i); } return [o.name, n]; }).filter((x) => x[1] > 0);
const pathOf = (i) => { const parts = []; for (let j = i, guard = 0; j >= 0 && guard < 100000; j = C.parent[j], guard++) parts.push(C.name[j]); return parts.reverse().join("/"); };

// Header, run, modules, failures.
const O = D.overview, counts = STATUS.map(() => 0);
for (let i = 0; i < N; i++) counts[C.status[i]]++;
$("title").textContent = D.name;
const card = (id, value, label) => '<div class="card" id="' + id + '" data-value="' + esc(value) + '"><b>' + esc(value) + "</b><span>" + esc(label) + "</span></div>";
const secs = Math.max(O.seconds, 1);
$("cards").innerHTML = card("count-outcome", O.outcome, "outcome") + card("count-inputs", O.inputs, "inputs (" + fmtBytes(O.inputBytes) + ")") +
  card("count-contents", N, "contents") + STATUS.map((s, k) => card("count-" + s, counts[k], s)).join("") + card("count-bytes", fmtBytes(O.bytes), "processed") +
  card("count-throughput", (O.bytes / 1e6 / secs).toFixed(1) + " MB/s", Math.round(O.seconds) + " s, " + Math.round(N / secs) + " contents/s");
$("run").innerHTML = '<table class="grid"><tr><th>attempt</th><th>started</th><th>finished</th><th>outcome</th><th>wadup</th><th>engine</th><th>resumed from</th></tr>' +
  D.runs.map((r) => "<tr><td>" + r.id + "</td><td>" + fmtTime(r.started) + "</td><td>" + fmtTime(r.finished) + "</td><td>" + esc(r.outcome) + "</td><td>" + esc(r.version) + "</td><td>" + esc(r.engine) + "</td><td>" + (r.resumedFrom === null ? "" : r.resumedFrom) + "</td></tr>").join("") + "</table>" +
  D.runs.map((r) => { let s = r.settings; try { s = JSON.stringify(JSON.parse(s), null, 2); } catch (e) {} return "<h3>Settings of attempt " + r.id + "</h3><pre>" + esc(s) + "</pre>"; }).join("");
// m: name, sha256, size, runs, failures, ms, offered, accepted (null before schema 2), data sha256 (null without data), runtime (a Python module's only).
const withData = D.modules.some((m) => m[8]);
const withRuntime = D.modules.some((m) => m[9]);
$("modules").innerHTML = D.modules.length === 0 ? "<p>Recorded when the run ends.</p>" : '<table class="grid" id="modules-table"><tr><th>module</th><th>offered</th><th>accepted</th><th>runs</th><th>failures</th><th>time ms</th><th>ms per run</th><th>size</th><th>sha256</th>' + (withData ? "<th>data sha256</th>" : "") + (withRuntime ? "<th>runtime</th>" : "") + "</tr>" +
  D.modules.map((m) => "<tr><td>" + esc(m[0]) + '</td><td class="num">' + (m[6] === null ? "-" : m[6]) + '</td><td class="num">' + (m[7] === null ? "-" : m[7]) + '</td><td class="num">' + m[3] + '</td><td class="num">' + m[4] + '</td><td class="num">' + m[5].toFixed(1) + '</td><td class="num">' + (m[3] ? (m[5] / m[3]).toFixed(3) : "-") + '</td><td class="num">' + m[2] + '</td><td class="mono">' + esc(m[1]) + "</td>" + (withData ? '<td class="mono">' + esc(m[8] || "-") + "</td>" : "") + (withRuntime ? '<td class="mono">' + esc(m[9] || "-") + "</td>" : "") + "</tr>").join("") + "</table>";
const byKind = new Map();
for (const key of Object.keys(D.fail)) { const i = +key; for (const f of D.fail[key]) { if (!byKind.has(f[1])) byKind.set(f[1], []); byKind.get(f[1]).push([i, f[0], f[2]]); } }
const kinds = [...byKind.entries()].sort((a, b) => b[1].length - a[1].length);
const failRows = (list, from, to) => list.slice(from, to).map((x) => "<tr><td>" + link(x[0], pathOf(x[0])) + "</td><td>" + esc(x[1]) + "</td><td>" + esc(x[2]) + "</td></tr>").join("");
$("failures").innerHTML = kinds.length === 0 ? "<p>No module failed.</p>" : kinds.map(([kind, list], k) =>
  '<h3 class="fail" data-kind="' + esc(kind) + '" data-count="' + list.length + '">' + esc(kind) + ": " + list.length + " module-run" + (list.length === 1 ? "" : "s") + "</h3>" +
  '<table class="grid"><tbody id="kind-' + k + '"><tr><th>content</th><th>module</th><th>detail</th></tr>' + failRows(list, 0, 10) + "</tbody></table>" +
  (list.length > 10 ? '<button type="button" data-more="' + k + '">Show all ' + list.length + "</button>" : "")).join("");
$("failures").addEventListener("click", (e) => { const b = e.target.closest("[data-more]"); if (!b) return; const k = +b.dataset.more; $("kind-" + k).insertAdjacentHTML("beforeend", failRows(kinds[k][1], 10, Infinity)); b.remove(); });
if (kinds.length) $("failures-section").open = true;

// The tree: only the rows in view are in the page.
const expanded = new Uint8Array(N);
let only = null, visible = [], selected = -1;
function rebuild() {
  visible = [];
  const stack = [];
  for (let k = roots.length - 1; k >= 0; k--) stack.push(roots[k]);
  while (stack.length) {
    const i = stack.pop();
    if (only && !only[i]) continue;
    visible.push(i);
    if (expanded[i]) { const ch = childrenOf(i); for (let k = ch.length - 1; k >= 0; k--) stack.push(ch[k]); }
  }
  $("spacer").style.height = visible.length * ROW + "px";
  draw();
}
function draw() {
  const tree = $("tree"), first = Math.max(0, Math.floor(tree.scrollTop / ROW) - 10), last = Math.min(visible.length, Math.ceil((tree.scrollTop + tree.clientHeight) / ROW) + 10);
  let html = "";
  for (let k = first; k < last; k++) {
    const i = visible[k], has = kids[i + 1] > kids[i], s = C.status[i];
    const mods = rowCounts(i).map((x) => esc(x[0]) + " " + x[1]).join(", ");
    html += '<div class="row' + (i === selected ? " sel" : "") + '" data-i="' + i + '" style="padding-left:' + (C.depth[i] * 16 + 4) + 'px"><span class="tg' + (has ? " has" : "") + '">' + (has ? (expanded[i] ? "▾" : "▸") : "") + '</span><span class="nm" title="' + esc(C.name[i]) + '">' + esc(C.name[i]) + '</span><span class="sz">' + fmtBytes(C.size[i]) + '</span><span class="st s' + s + '">' + STATUS[s] + '</span><span class="ty">' + esc(C.mime[i] || "") + '</span><span class="meta">d' + C.depth[i] + (C.sha[i] ? " " + C.sha[i].slice(0, 12) : "") + "</span>" + (mods ? '<span class="mods">' + mods + "</span>" : "") + "</div>";
  }
  const rows = $("rows");
  rows.style.top = first * ROW + "px";
  rows.innerHTML = html;
}
$("tree").addEventListener("scroll", () => requestAnimationFrame(draw));
window.addEventListener("resize", () => requestAnimationFrame(draw));
$("rows").addEventListener("click", (e) => {
  const row = e.target.closest(".row"); if (!row) return;
  const i = +row.dataset.i;
  if (e.target.classList.contains("has")) { expanded[i] ^= 1; rebuild(); } else select(i);
});
function reveal(i) {
  for (let p = C.parent[i]; p >= 0; p = C.parent[p]) expanded[p] = 1;
  if (only && !only[i]) { only = null; $("status").value = ""; }
  rebuild();
  const k = visible.indexOf(i), tree = $("tree");
  if (k >= 0 && (k * ROW < tree.scrollTop || (k + 1) * ROW > tree.scrollTop + tree.clientHeight)) tree.scrollTop = Math.max(0, k * ROW - tree.clientHeight / 3);
  select(i);
}
// A disk image's file systems (the disk module's fs_entries) as folder trees: one per volume, a
// folder's entries drawn when it is opened, each with its size, its four times and whether it is
// deleted (struck through).
let fsNodes = [];
function fsTree(t, rows) {
  const col = (n) => t.columns.indexOf(n) + 1, cv = col("volume"), cp = col("path");
  if (!cv || !cp) return "";
  const cs = col("size"), cd = col("deleted"), times = ["mtime", "atime", "ctime", "crtime"].map(col);
  const root = { kids: new Map(), rows: [] };
  for (const r of rows) {
    let node = root;
    for (const part of [r[cv] === "" ? "/" : r[cv]].concat(String(r[cp]).split("/").filter((x) => x))) {
      let n = node.kids.get(part); if (!n) node.kids.set(part, n = { kids: new Map(), rows: [] }); node = n;
    }
    node.rows.push(r);
  }
  fsNodes = [];
  const stamp = (r) => " <small>" + (r[cd] ? "deleted · " : "") + (cs && r[cs] !== null ? fmtBytes(r[cs]) + " · " : "") +
    "MACB".split("").map((l, k) => l + " " + (times[k] && r[times[k]] !== null ? fmtTime(r[times[k]]).replace(" UTC", "") : "-")).join(" ") + "</small>";
  const label = (name, n) => '<span class="' + (n.rows.length && n.rows.every((r) => r[cd]) ? "del" : "") + '">' + esc(name) + "</span>" + (n.rows.length ? stamp(n.rows[0]) : "");
  window.fsOpen = (id) => { const n = fsNodes[id]; return [...n.kids.entries()].sort((a, b) => (b[1].kids.size > 0) - (a[1].kids.size > 0) || (a[0] < b[0] ? -1 : 1)).map(([name, c]) => c.kids.size
      ? '<details data-fs="' + (fsNodes.push(c) - 1) + '"><summary>' + label(name, c) + "</summary></details>"
      : c.rows.map((r) => '<div class="leaf"><span class="' + (r[cd] ? "del" : "") + '">' + esc(name) + "</span>" + stamp(r) + "</div>").join("")).join(""); };
  fsNodes.push(root);
  return '<h3>File systems <small>(' + rows.length + " entries)</small></h3><div class=\"fstree\" id=\"detail-fs\">" + window.fsOpen(0) + "</div>";
}
document.addEventListener("toggle", (e) => { const d = e.target; if (d.dataset && d.dataset.fs && d.open && !d.dataset.drawn) { d.dataset.drawn = "1"; d.insertAdjacentHTML("beforeend", window.fsOpen(+d.dataset.fs)); } }, true);
function select(i) {
  selected = i;
  draw();
  const s = C.status[i], chain = [];
  for (let p = i; p >= 0; p = C.parent[p]) chain.push(p);
  chain.reverse();
  let h = '<h2 id="detail-name">' + esc(C.name[i]) + "</h2>" + '<div class="chain" id="detail-chain">' + chain.map((p) => link(p)).join("") + "</div>";
  h += '<table class="grid" id="detail-record"><tr><th>uuid</th><td class="mono">' + esc(C.uuid[i]) + "</td></tr><tr><th>status</th><td class=\"s" + s + '">' + STATUS[s] + "</td></tr>" +
    "<tr><th>size</th><td>" + (C.size[i] === null ? "-" : C.size[i] + " (" + fmtBytes(C.size[i]) + ")") + "</td></tr><tr><th>sha256</th><td class=\"mono\">" + esc(C.sha[i] || "-") + "</td></tr>" +
    "<tr><th>type</th><td id=\"detail-type\">" + (C.mime[i] ? esc(C.mime[i]) + " (" + esc(C.desc[i] || "") + ")" : "-") + "</td></tr>" +
    "<tr><th>depth</th><td>" + C.depth[i] + "</td></tr>" + (C.dup[i] >= 0 ? "<tr><th>duplicate of</th><td>" + link(C.dup[i], pathOf(C.dup[i])) + " (processed there)</td></tr>" : "") +
    (C.note[i] ? "<tr><th>note</th><td>" + esc(C.note[i]) + "</td></tr>" : "") +
    (D.fail[i] ? D.fail[i].map((f) => '<tr><th>failure</th><td class="fail">' + esc(f[0]) + ": " + esc(f[1]) + ": " + esc(f[2]) + "</td></tr>").join("") : "") + "</table>";
  const ch = childrenOf(i);
  if (ch.length) h += "<h3>Children (" + ch.length + ')</h3><div id="detail-children">' + Array.from(ch.subarray(0, 200)).map((c) => link(c) + ' <span class="s' + C.status[c] + '">' + STATUS[C.status[c]] + "</span>").join("<br>") + (ch.length > 200 ? "<br>… " + (ch.length - 200) + " more in the tree" : "") + "</div>";
  D.tables.forEach((t, k) => { if (t.name === "fs_entries") { const rows = rowsOf(k, i); if (rows.length) h += fsTree(t, rows); } });
  D.tables.forEach((t, k) => {
    const rows = rowsOf(k, i); if (!rows.length) return;
    h += '<h3>' + esc(t.name) + " <small>(" + esc(t.module) + ", " + rows.length + " row" + (rows.length === 1 ? "" : "s") + ')</small></h3><table class="grid" data-table="' + esc(t.name) + '"><tr>' + t.columns.map((c) => "<th>" + esc(c) + "</th>").join("") + "</tr>" +
      rows.slice(0, 1000).map((r) => "<tr>" + r.slice(1).map((v) => typeof v === "number" ? '<td class="num">' + v + "</td>" : "<td>" + (v === null ? "<i>NULL</i>" : esc(v)) + "</td>").join("") + "</tr>").join("") + "</table>" +
      (rows.length > 1000 ? "<p>First 1000 of " + rows.length + " rows.</p>" : "");
  });
  $("detail").innerHTML = h;
  $("detail").scrollTop = 0;
}
document.addEventListener("click", (e) => { const a = e.target.closest("[data-go]"); if (!a) return; e.preventDefault(); $("results").style.display = "none"; reveal(+a.dataset.go); });

// Search and the status filter.
let timer = 0;
$("q").addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(search, 200); });
$("q").addEventListener("keydown", (e) => { if (e.key === "Enter") { clearTimeout(timer); search(); } });
function search() {
  const q = $("q").value.trim().toLowerCase(), box = $("results");
  if (!q) { box.style.display = "none"; return; }
  const hex = /^[0-9a-f-]+$/.test(q), path = q.includes("/"), found = [];
  let total = 0;
  for (let i = 0; i < N; i++) {
    if (C.name[i].toLowerCase().includes(q) || (hex && ((C.sha[i] && C.sha[i].startsWith(q)) || C.uuid[i].startsWith(q))) || (path && pathOf(i).toLowerCase().includes(q))) {
      if (found.length < 500) found.push(i);
      total++;
    }
  }
  box.innerHTML = '<div class="count" id="result-count" data-count="' + total + '">' + total + " match" + (total === 1 ? "" : "es") + (total > found.length ? ", first " + found.length + " shown" : "") + "</div>" +
    found.map((i) => '<div data-go="' + i + '" class="hit"><span class="s' + C.status[i] + '">●</span> ' + esc(pathOf(i)) + "</div>").join("");
  box.style.display = "block";
}
// The type filter lists every type the run recorded, commonest first.
const typeCounts = new Map();
for (let i = 0; i < N; i++) if (C.mime[i]) typeCounts.set(C.mime[i], (typeCounts.get(C.mime[i]) || 0) + 1);
$("type").insertAdjacentHTML("beforeend", [...typeCounts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
  .map(([t, n]) => '<option value="' + esc(t) + '">' + esc(t) + " (" + n + ")</option>").join(""));
function filter() {
  const v = $("status").value, t = $("type").value;
  if (v === "" && t === "") { only = null; } else {
    only = new Uint8Array(N);
    const want = +v;
    // Matches and their ancestors, the ancestors open (a matching content may be an ancestor too).
    for (let i = 0; i < N; i++) {
      if ((v !== "" && C.status[i] !== want) || (t !== "" && C.mime[i] !== t)) continue;
      only[i] = 1;
      for (let p = C.parent[i]; p >= 0 && !(only[p] && expanded[p]); p = C.parent[p]) { only[p] = 1; expanded[p] = 1; }
    }
  }
  $("tree").scrollTop = 0;
  rebuild();
}
$("status").addEventListener("change", filter);
$("type").addEventListener("change", filter);
$("expand").addEventListener("click", () => { expanded.fill(1); rebuild(); });
$("collapse").addEventListener("click", () => { expanded.fill(0); rebuild(); });

rebuild();
// For scripts and tests driving the page: the rows the tree shows now (scrolled into view or not).
window.wadup = { count: N, reveal, select, search, pathOf, visibleNames: () => visible.map((i) => C.name[i]) };
window.wadupReadyMs = performance.now();
document.body.dataset.ready = "1";
})();
</script>
</body>
</html>
"""#
}
