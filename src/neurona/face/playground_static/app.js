// The playground's page: it draws what the Python session sends and sends back what
// the user asks for. No training happens here: every number comes from the server.
"use strict";

// The page's texts in every language, from neurona's message catalogues (see index.html.j2).
const STRINGS = JSON.parse(document.getElementById("strings").textContent);
// Which optimizer (and schedule) takes each of the form's settings.
const APPLIES = JSON.parse(document.getElementById("applies").textContent);
const CLASS_RGB = [[33, 102, 172], [247, 247, 247], [214, 96, 77]];   // blue, white, red
const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
const $ = (id) => document.getElementById(id);

const state = { lang: document.documentElement.dataset.lang || "en", start: null, frame: null,
                curves: [], raceCurves: [], paths: [], touched: new Set(), playing: false, ws: null, id: null };

function t(key) { return (STRINGS[state.lang] || STRINGS.en)[key] || STRINGS.en[key] || key; }

function translate() {
  document.documentElement.lang = state.lang;
  $("lang").value = state.lang;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  $("play").textContent = t(state.playing ? "pause" : "play");
  if (state.start) { showLabels(); showFrame(); draw(); }
  if (state.error) showError(state.error.english, state.error.messages);
}

// Only the settings the chosen optimizer, schedule and race take are shown.
function showApplicable() {
  const form = $("settings").elements;
  for (const label of document.querySelectorAll("label[data-setting]")) {
    const name = label.dataset.setting;
    let shown = true;
    for (const [select, table] of Object.entries(APPLIES)) {
      if (name in table) shown = table[name].includes(form[select].value);
    }
    if (name === "race_learning_rate") shown = form.race.value !== "none";
    label.hidden = !shown;
  }
}

// --- the settings, in the form and in the URL's hash -------------------------------------

function hashSettings() {
  const out = {};
  for (const [k, v] of new URLSearchParams(location.hash.slice(1))) out[k] = v;
  return out;
}

function sentSettings() {
  const form = $("settings"), out = {};
  for (const name of state.touched) if (form.elements[name]) out[name] = form.elements[name].value;
  return out;
}

function writeHash(settings) {
  const params = new URLSearchParams(settings);
  if (state.lang !== "en") params.set("lang", state.lang);
  history.replaceState(null, "", location.pathname + location.search + (params.toString() ? "#" + params : ""));
}

function fillForm(settings) {
  const form = $("settings");
  for (const [k, v] of Object.entries(settings)) {
    if (!form.elements[k]) continue;
    form.elements[k].value = v === null ? "" : String(v);
  }
  showApplicable();
}

function configure(settings) {
  writeHash(settings);
  send({ cmd: "configure", settings });
}

// --- the socket ----------------------------------------------------------------------------

function send(message) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(message));
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${scheme}//${location.host}/ws${location.search}`);
  state.ws = ws;
  say(t("connecting"), true);
  ws.onopen = () => {
    say("");
    const settings = hashSettings();
    if (settings.lang) { state.lang = settings.lang in STRINGS ? settings.lang : "en"; delete settings.lang; translate(); }
    for (const k of Object.keys(settings)) state.touched.add(k);
    fillForm(settings);
    send({ cmd: "hello" });
    send({ cmd: "speed", value: Number($("speed").value) });
    configure(settings);
  };
  ws.onmessage = (event) => receive(JSON.parse(event.data));
  ws.onclose = () => { say(t("disconnected")); document.body.dataset.connected = "false"; };
}

function receive(m) {
  if (m.type === "error") { showError(m.message, m.messages); return; }
  if (m.type === "hello") { state.id = m.id; return; }
  if (m.type === "start") {
    state.start = m; state.curves = []; state.raceCurves = [];
    if (m.upload) showUpload(m.upload, m.feature_names);
    fillForm(m.settings);
    $("file-fields").hidden = m.settings.dataset !== "file";
    $("clicking").hidden = !m.editable;
    if (!m.editable) document.querySelector("input[name=click-mode][value=inspect]").checked = true;
    $("clicking-note").dataset.i18n = m.editable ? "clicking" : "clicking_fixed";
    $("clicking-note").textContent = t($("clicking-note").dataset.i18n);
    $("plane").dataset.points = String(m.n_train);
    $("plane").dataset.features = m.features.join(",");
    $("edited-note").hidden = !m.edited;
    $("command").textContent = m.command;
    $("python").textContent = m.python;
    $("race-take-away").hidden = !m.race_command;
    $("race-command").textContent = m.race_command || "";
    $("race-note").hidden = !m.race;
    say(""); delete document.body.dataset.error;
    showLabels();
  }
  if (m.type === "start" || m.type === "frame") {
    // Each frame brings the paths' new points: from the start, or where the page's end.
    m.surface.paths.forEach((p, k) => {
      if (p.start === 0 || !state.paths[k]) state.paths[k] = p.points.slice();
      else if (p.start === state.paths[k].length) state.paths[k].push(...p.points);
    });
    state.paths.length = m.surface.paths.length;
    if (m.step === 0) state.curves = [];
    state.curves.push(...m.curves);
    if (m.race) {
      if (m.race.step === 0) state.raceCurves = [];
      state.raceCurves.push(...m.race.curves);
    }
    state.frame = m;
    showFrame();
    draw();
  }
  if (m.type === "stopped") setPlaying(false);
  if (m.type === "model") download(m.document);
}

// A server error, in the page's language (the server says it in each one it knows); it is
// said again when the language changes, until the next message replaces it.
function showError(english, messages) {
  state.error = { english, messages };
  say((messages && messages[state.lang]) || english, false, true);
  document.body.dataset.error = english;
}

function say(text, note = false, keep = false) {
  if (!keep) state.error = null;
  $("message").textContent = text;
  $("message").className = note ? "note" : "";
}

// --- numbers -------------------------------------------------------------------------------

function num(v, digits = 6) {
  if (v === null || v === undefined) return "–";
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e6 || a < 1e-4) ? v.toExponential(digits - 2) : Number(v.toPrecision(digits)).toString();
}

function scoreKey() { return state.start.task === "classify" ? "accuracy" : "r2"; }

function showLabels() {
  const k = scoreKey();
  $("score-label").textContent = t("train_" + k);
  $("test-score-label").textContent = t("test_" + k);
  $("legend").textContent = t(state.start.task === "classify" ? "legend_classify" : "legend_regress");
}

function setValue(id, v, text) { $(id).dataset.value = v === null || v === undefined ? "" : String(v); $(id).textContent = text; }

function showFrame() {
  const f = state.frame, k = scoreKey();
  setValue("epoch-now", f.epoch, `${f.epoch} / ${f.epochs}`);
  setValue("step-now", f.step, String(f.step));
  const status = state.playing && f.status !== "finished" && f.status !== "diverged" ? "playing" : f.status;
  setValue("status", f.status, t(status));
  setValue("loss", f.train ? f.train.loss : null, num(f.train ? f.train.loss : null));
  setValue("score", f.train ? f.train[k] : null, num(f.train ? f.train[k] : null, 4));
  setValue("test-loss", f.test.loss, num(f.test.loss));
  setValue("test-score", f.test[k], num(f.test[k], 4));
  $("weights").dataset.values = JSON.stringify(f.weights);
  $("weights").dataset.bias = JSON.stringify(f.bias);
  const names = state.start.feature_names || state.start.features;
  const terms = f.weights.map((w, i) => `${num(w, 5)}·${names[i] || "x" + (i + 1)}`);
  $("formula").textContent = `z = ${terms.join(" + ")} + ${num(f.bias, 5)}`.replace(/\+ -/g, "− ");
  if (f.status === "diverged") say(t("diverged_note") + " " + (f.error || ""));
  showRace(f);
  showPoint(f.point);
}

function cell(text, tag = "td") { const c = document.createElement(tag); c.textContent = text; return c; }

// The two optimizers side by side: each one's epoch, losses and score.
function showRace(f) {
  const table = $("race-table"), k = scoreKey();
  table.hidden = !f.race;
  if (!f.race) return;
  $("race-score-label").textContent = t("test_" + k);
  const rows = [f, f.race].map((r) => {
    const tr = document.createElement("tr");
    tr.dataset.optimizer = r.optimizer;
    tr.dataset.loss = r.train ? String(r.train.loss) : "";
    const status = r.status === "diverged" ? ` (${t("diverged")})` : "";
    tr.append(cell(r.optimizer + " · " + num(r.learning_rate, 3) + status, "th"), cell(`${r.epoch} / ${r.epochs}`),
              cell(num(r.train ? r.train.loss : null)), cell(num(r.test.loss)), cell(num(r.test[k], 4)));
    return tr;
  });
  table.tBodies[0].replaceChildren(...rows);
}

// The inspected training point through the neuron: forward pass, loss, its part of the gradient.
function showPoint(p) {
  const box = $("point");
  if (!p) {
    const note = document.createElement("p");
    note.className = "note"; note.dataset.i18n = "point_none"; note.textContent = t("point_none");
    box.replaceChildren(note); box.dataset.index = ""; return;
  }
  box.dataset.index = String(p.index);
  box.dataset.share = p.share === null ? "" : String(p.share);
  const names = p.features, lines = [];
  const xs = p.x.map((v, i) => `${names[i]} = ${num(v, 4)}`).join(", ");
  lines.push([t("step_input"), xs]);
  lines.push([t("step_target"), `y = ${num(p.y, 4)}` + (String(p.label) !== String(p.y) ? ` (${p.label})` : "")]);
  const factor = (v) => (v < 0 ? `(${num(v, 4)})` : num(v, 4));
  const terms = p.terms.map((v, i) => `${num(p.weights[i], 4)}·${factor(p.x[i])}`).join(" + ");
  lines.push([t("step_z"), `z = ${terms} + ${num(p.bias, 4)} = ${num(p.z, 5)}`.replace(/\+ -/g, "− ")]);
  lines.push([t("step_a"), `a = ${p.activation}(z) = ${num(p.a, 5)};  ${p.activation}′(z) = ${num(p.slope, 4)}`]);
  lines.push([t("step_loss"), `${p.loss_name}(y, a) = ${num(p.loss, 5)}`]);
  const slope = p.loss_name === "log_loss" ? "a − y" : `2 (a − y) · ${p.activation}′(z)`;
  lines.push([t("step_dl_dz"), `∂l/∂z = ${slope} = ${num(p.dl_dz, 5)}`]);
  const scale = p.reduction === "mean" ? `1/${p.n_rows} · ` : "";
  const grads = p.gradient.slice(0, -1).map((g, i) => `∂/∂w[${names[i]}] = ${num(g, 4)}`);
  lines.push([t("step_gradient"), `${scale}∂l/∂z · (x, 1): ${grads.join(", ")}, ∂/∂b = ${num(p.gradient[p.gradient.length - 1], 4)}`]);
  lines.push([t("step_share"), p.share === null ? "–" : `${num(100 * p.share, 3)} %`]);
  lines.push([t("step_alignment"), p.alignment === null ? "–" : `cos = ${num(p.alignment, 3)}`]);
  const list = document.createElement("ol");
  list.className = "steps";
  for (const [label, value] of lines) {
    const li = document.createElement("li"), b = document.createElement("b"), code = document.createElement("code");
    b.textContent = label + ": "; code.textContent = value;
    li.append(b, code); list.append(li);
  }
  const note = document.createElement("p");
  note.className = "note"; note.dataset.i18n = "share_note"; note.textContent = t("share_note");
  box.replaceChildren(list, note);
}

// --- drawing -------------------------------------------------------------------------------

function mix(stops, u) {
  u = Math.min(1, Math.max(0, u));
  const x = u * (stops.length - 1), i = Math.min(stops.length - 2, Math.floor(x)), r = x - i;
  return stops[i].map((c, j) => Math.round(c + (stops[i + 1][j] - c) * r));
}

function range() {
  const ys = state.start.points.train.y.concat(state.start.points.test.y);
  return [Math.min(...ys), Math.max(...ys)];
}

function colourOf(v) {
  if (state.start.task === "classify") {
    const [lo, hi] = state.start.settings.activation === "tanh" ? [-1, 1] : [0, 1];
    return mix(CLASS_RGB, (v - lo) / (hi - lo));
  }
  const [lo, hi] = range();
  return mix(VIRIDIS, (v - lo) / (hi - lo || 1));
}

function draw() { if (state.start && state.frame) { drawPlane(); drawCurves(); drawSurface(); } }

function drawPlane() {
  const canvas = $("plane"), ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
  const field = state.frame.field, n = field.n, [x0, x1, y0, y1] = field.bounds;
  const img = ctx.createImageData(n, n);
  field.values.forEach((v, i) => {
    const [r, g, b] = v === null ? [200, 200, 200] : colourOf(v);
    img.data.set([r, g, b, 150], 4 * i);
  });
  const off = document.createElement("canvas");
  off.width = off.height = n;
  off.getContext("2d").putImageData(img, 0, 0);
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, W, H);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(off, 0, 0, n, n, 0, 0, W, H);
  const px = (x) => ((x - x0) / (x1 - x0)) * W, py = (y) => ((y1 - y) / (y1 - y0)) * H;
  if (state.start.task === "classify") drawBoundary(ctx, field, px, py);
  if (state.start.task === "classify" && state.frame.race) {
    drawBoundary(ctx, { ...field, values: state.frame.race.field }, px, py, [8, 6]);
  }
  for (const [part, filled] of [["train", true], ["test", false]]) {
    const p = state.start.points[part];
    for (let i = 0; i < p.y.length; i++) {
      const x = px(p.x[2 * i]), y = py(p.x[2 * i + 1]), v = p.y[i];
      const [r, g, b] = state.start.task === "classify" ? CLASS_RGB[v ? 2 : 0] : colourOf(v);
      ctx.beginPath();
      if (state.start.task === "classify" && v) ctx.rect(x - 3.5, y - 3.5, 7, 7);   // class 1: squares
      else ctx.arc(x, y, 4, 0, 2 * Math.PI);                                        // class 0: circles
      ctx.lineWidth = filled ? 0.8 : 1.8;
      ctx.strokeStyle = filled ? "#111" : `rgb(${r},${g},${b})`;
      if (filled) { ctx.fillStyle = `rgb(${r},${g},${b})`; ctx.fill(); }
      ctx.stroke();
    }
  }
  ctx.fillStyle = "#333"; ctx.font = "13px system-ui, sans-serif";
  const names = state.start.features;
  ctx.fillText(names[0] + " →", W - 60, H - 8);
  ctx.save(); ctx.translate(14, 60); ctx.rotate(-Math.PI / 2); ctx.fillText(names[1] + " →", 0, 0); ctx.restore();
}

// Where the output crosses the threshold along the grid's rows and columns: a straight
// line for one neuron (scaling is affine), drawn through the crossings the server's field shows.
function drawBoundary(ctx, field, px, py, dash = []) {
  const n = field.n, v = field.values, th = state.start.threshold, [x0, x1, y0, y1] = field.bounds;
  const gx = (j) => x0 + ((x1 - x0) * j) / (n - 1), gy = (i) => y1 - ((y1 - y0) * i) / (n - 1);
  const pts = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    const a = v[i * n + j];
    if (a === null) continue;
    for (const [di, dj] of [[0, 1], [1, 0]]) {
      if (i + di >= n || j + dj >= n) continue;
      const b = v[(i + di) * n + j + dj];
      if (b === null || (a - th) * (b - th) > 0 || a === b) continue;
      const r = (th - a) / (b - a);
      pts.push([gx(j + dj * r), gy(i + di * r)]);
    }
  }
  if (pts.length < 2) return;
  const wide = Math.abs(pts[0][0] - pts[pts.length - 1][0]) >= Math.abs(pts[0][1] - pts[pts.length - 1][1]);
  pts.sort((p, q) => (wide ? p[0] - q[0] : p[1] - q[1]));
  ctx.beginPath();
  ctx.moveTo(px(pts[0][0]), py(pts[0][1]));
  ctx.lineTo(px(pts[pts.length - 1][0]), py(pts[pts.length - 1][1]));
  ctx.lineWidth = dash.length ? 2 : 2.5; ctx.strokeStyle = "#111"; ctx.setLineDash(dash); ctx.stroke();
  ctx.setLineDash([]);
}

function drawCurves() {
  const canvas = $("curves"), ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
  ctx.clearRect(0, 0, W, H);
  const rows = state.curves, k = scoreKey(), epochs = state.frame.epochs;
  const panels = [["loss", t("loss_axis"), null], [k, t(k + "_axis"), k === "accuracy" ? [0, 1] : null]];
  panels.forEach(([key, label, fixed], p) => {
    const top = p * (H / 2) + 12, h = H / 2 - 40, left = 52, w = W - left - 12;
    const vals = rows.concat(state.frame.race ? state.raceCurves : []).flatMap((r) => [r.train[key], r.test[key]])
      .filter((x) => x !== null && x !== undefined && isFinite(x));
    let [lo, hi] = fixed || [Math.min(...vals), Math.max(...vals)];
    if (!vals.length && !fixed) [lo, hi] = [0, 1];
    if (hi === lo) { hi += 1; lo -= 1; }
    ctx.strokeStyle = "#999"; ctx.lineWidth = 1; ctx.setLineDash([]);
    ctx.strokeRect(left, top, w, h);
    ctx.fillStyle = "#333"; ctx.font = "12px system-ui, sans-serif";
    ctx.fillText(label, 4, top + 10);
    ctx.fillText(num(hi, 3), 4, top + 26); ctx.fillText(num(lo, 3), 4, top + h);
    ctx.fillText(t("epoch_axis") + " " + epochs, left + w - 70, top + h + 16);
    const lines = [[rows, 2]].concat(state.frame.race ? [[state.raceCurves, 1]] : []);
    for (const [[series, width], [part, colour, dash]] of lines.flatMap((l) => [[l, ["train", "#0072b2", []]], [l, ["test", "#e69f00", [6, 4]]]])) {
      ctx.beginPath(); ctx.strokeStyle = colour; ctx.lineWidth = width; ctx.setLineDash(dash);
      let started = false;
      for (const r of series) {
        const y = r[part][key];
        if (y === null || y === undefined) { started = false; continue; }
        const X = left + (w * r.epoch) / epochs, Y = top + h - (h * (Math.min(hi, Math.max(lo, y)) - lo)) / (hi - lo);
        if (started) ctx.lineTo(X, Y); else { ctx.moveTo(X, Y); started = true; }
      }
      ctx.stroke();
    }
  });
  ctx.setLineDash([]);
}

// The objective over the plane's two weights (log colour scale) with each optimizer's path.
function drawSurface() {
  const canvas = $("surface"), ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
  const s = state.frame.surface;
  if (s.values) state.surface = { values: s.values, bounds: s.bounds };   // else: the last ones
  if (!state.surface) return;
  const n = s.n, values = state.surface.values, [a0, a1, b0, b1] = state.surface.bounds;
  const left = 58, top = 8, w = W - left - 10, h = H - top - 40;
  ctx.clearRect(0, 0, W, H);
  const finite = values.filter((v) => v !== null);
  const lo = Math.min(...finite), hi = Math.max(...finite), eps = (hi - lo) * 1e-3 + 1e-12;
  const L = (v) => Math.log(v - lo + eps), u = (v) => (L(v) - L(lo)) / (L(hi) - L(lo) || 1);
  const img = ctx.createImageData(n, n);
  values.forEach((v, i) => img.data.set([...(v === null ? [200, 200, 200] : mix(VIRIDIS, u(v))), 255], 4 * i));
  const off = document.createElement("canvas");
  off.width = off.height = n;
  off.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(off, 0, 0, n, n, left, top, w, h);
  const px = (a) => left + ((a - a0) / (a1 - a0)) * w, py = (b) => top + ((b1 - b) / (b1 - b0)) * h;
  state.paths.forEach((path, k) => {
    const main = k === 0, stride = Math.ceil(path.length / 400);   // at most ~400 drawn
    ctx.beginPath();
    path.forEach(([a, b], i) => {
      if (i % stride && i !== path.length - 1) return;
      if (i) ctx.lineTo(px(a), py(b)); else ctx.moveTo(px(a), py(b));
    });
    if (main) { ctx.strokeStyle = "#fff"; ctx.lineWidth = 4.5; ctx.stroke(); }
    ctx.strokeStyle = main ? "#111" : "#e69f00"; ctx.lineWidth = main ? 2 : 1.5;
    ctx.setLineDash(main ? [] : [6, 4]); ctx.stroke(); ctx.setLineDash([]);
    const [sa, sb] = path[0], [ea, eb] = path[path.length - 1];
    ctx.beginPath(); ctx.arc(px(sa), py(sb), 6, 0, 2 * Math.PI); ctx.lineWidth = 2; ctx.strokeStyle = "#fff"; ctx.stroke();
    ctx.beginPath(); ctx.arc(px(ea), py(eb), 5, 0, 2 * Math.PI); ctx.fillStyle = main ? "#111" : "#e69f00"; ctx.fill();
    ctx.strokeStyle = "#fff"; ctx.lineWidth = 1.5; ctx.stroke();
  });
  ctx.strokeStyle = "#999"; ctx.lineWidth = 1; ctx.strokeRect(left, top, w, h);
  ctx.fillStyle = "#333"; ctx.font = "12px system-ui, sans-serif";
  ctx.fillText(num(a0, 3), left, top + h + 14);
  const right = num(a1, 3); ctx.fillText(right, left + w - ctx.measureText(right).width, top + h + 14);
  ctx.fillText(s.weights[0] + " →", left + w / 2 - 30, top + h + 30);
  ctx.fillText(num(b1, 3), 4, top + 12); ctx.fillText(num(b0, 3), 4, top + h);
  ctx.save(); ctx.translate(14, top + h / 2 + 40); ctx.rotate(-Math.PI / 2); ctx.fillText(s.weights[1] + " →", 0, 0); ctx.restore();
}

// --- controls ------------------------------------------------------------------------------

function setPlaying(on) {
  state.playing = on;
  $("play").classList.toggle("playing", on);
  $("play").textContent = t(on ? "pause" : "play");
  $("play").setAttribute("aria-pressed", String(on));
  if (state.frame) showFrame();
}

// --- your own file, points by clicking, the run to take away ---------------------------------

function options(select, names) {
  select.replaceChildren(...names.map((n) => { const o = document.createElement("option"); o.value = o.textContent = n; return o; }));
}

function showUpload(info, features) {
  const file = document.querySelector("select[name=dataset] option[value=file]");
  file.disabled = false;
  $("upload-info").textContent = `${info.name}: ${info.rows} ${t("uploaded")}`;
  const form = $("settings").elements;
  if (form.target.options.length !== info.columns.length) options(form.target, info.columns);
  if (features) for (const k of ["plane_x", "plane_y"]) options(form[k], features);
}

function query(extra) {
  const params = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return "?" + params;
}

async function upload(file) {
  say(t("connecting"), true);
  const response = await fetch("upload" + query({ id: state.id, name: file.name }), { method: "POST", body: file });
  const answer = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) { showError(answer.error, answer.messages); return; }
  say("");
  showUpload(answer.upload, null);
  $("file-fields").hidden = false;
  const form = $("settings").elements;
  form.dataset.value = "file";
  form.target.value = answer.upload.columns[answer.upload.columns.length - 1];
  for (const k of ["noise", "n_samples", "activation", "loss", "plane_x", "plane_y"]) state.touched.delete(k);
  for (const k of ["dataset", "target"]) state.touched.add(k);
  setPlaying(false);
  configure(sentSettings());
}

function clickMode() { return document.querySelector("input[name=click-mode]:checked").value; }

function clickPlane(e) {
  if (!state.start || !state.frame) return;
  const rect = $("plane").getBoundingClientRect(), [x0, x1, y0, y1] = state.frame.field.bounds;
  const x = x0 + ((e.clientX - rect.left) / rect.width) * (x1 - x0);
  const y = y1 - ((e.clientY - rect.top) / rect.height) * (y1 - y0);
  const mode = clickMode();
  if (mode === "inspect" && !e.shiftKey) { send({ cmd: "inspect", x, y }); return; }
  if (!state.start.editable) { say(t("not_editable"), true); return; }
  setPlaying(false);
  if (e.shiftKey) send({ cmd: "remove", x, y });
  else send({ cmd: "point", x, y, label: Number(mode) });
}

function downloadRun() {
  const a = document.createElement("a");
  a.href = "run.zip" + query({ id: state.id, lang: state.lang }); a.download = "run.zip";
  document.body.appendChild(a); a.click(); a.remove();
}

function download(doc) {
  const blob = new Blob([JSON.stringify(doc, null, 2) + "\n"], { type: "application/json" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob); a.download = "model.json";
  document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

$("play").onclick = () => { if (state.playing) { send({ cmd: "pause" }); } else { setPlaying(true); send({ cmd: "play" }); } };
$("step").onclick = () => send({ cmd: "step" });
$("epoch").onclick = () => send({ cmd: "epoch" });
$("reset").onclick = () => { state.curves = []; send({ cmd: "reset" }); };
$("download").onclick = () => send({ cmd: "model" });
$("download-run").onclick = downloadRun;
$("plane").addEventListener("click", clickPlane);
$("upload").onchange = (e) => { if (e.target.files.length) upload(e.target.files[0]); };
for (const b of document.querySelectorAll("button.copy")) {
  b.onclick = () => navigator.clipboard.writeText($(b.dataset.copy).textContent).then(() => say(t("copied"), true), () => {});
}
$("speed").oninput = () => send({ cmd: "speed", value: Number($("speed").value) });
$("lang").onchange = () => { state.lang = $("lang").value; translate(); writeHash(sentSettings()); };
$("settings").addEventListener("input", (e) => {
  if (!e.target.name) return;
  state.touched.add(e.target.name);
  if (e.target.name === "dataset") for (const k of ["noise", "n_samples", "activation", "loss", "target", "missing", "plane_x", "plane_y"]) state.touched.delete(k);
  if (e.target.name === "dataset" && e.target.value === "file") state.touched.add("target");
});
$("settings").addEventListener("change", (e) => {
  if (["optimizer", "schedule", "race"].includes(e.target.name)) showApplicable();
  if (["dataset", "target", "missing", "plane_x", "plane_y"].includes(e.target.name)) configure(sentSettings());
});
$("settings").onsubmit = (e) => { e.preventDefault(); setPlaying(false); configure(sentSettings()); };
document.addEventListener("keydown", (e) => {
  if (e.target.closest("input, select, textarea") || e.ctrlKey || e.metaKey || e.altKey) return;
  const key = e.key.toLowerCase();
  if (key === " " && e.target.closest("button")) return;   // a focused button takes its own Space
  if (key === " ") { e.preventDefault(); $("play").click(); }
  else if (key === "s") $("step").click();
  else if (key === "e") $("epoch").click();
  else if (key === "r") $("reset").click();
});

translate();
connect();
