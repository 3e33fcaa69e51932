// The playground's page: it draws what the Python session sends and sends back what
// the user asks for. No training happens here: every number comes from the server.
"use strict";

const STRINGS = {
  en: {
    playground: "playground", tagline: "One neuron, trained by neurona's own loop in Python; this page only draws.",
    language: "Language", settings: "Settings", data: "Data", dataset: "Dataset", noise: "Noise",
    n_samples: "Points", seed: "Seed", model: "Model", activation: "Activation", loss: "Loss",
    scale: "Scaling", training: "Training", optimizer: "Optimizer", learning_rate: "Learning rate",
    batch_size: "Batch size", epochs: "Epochs", apply: "Apply",
    plane: "The data and the decision boundary", play: "Play", pause: "Pause", step: "One update",
    one_epoch: "One epoch", reset: "Reset", speed: "Speed",
    keys: "Keys: Space play/pause, S one update, E one epoch, R reset.",
    neuron: "The neuron", epoch: "Epoch", update: "Updates", status: "Status",
    train_loss: "Training loss", train_accuracy: "Training accuracy", test_loss: "Test loss",
    test_accuracy: "Test accuracy", train_r2: "Training R²", test_r2: "Test R²",
    train: "training", test: "test", download: "Download model.json",
    ready: "ready", paused: "paused", playing: "playing", finished: "finished", diverged: "diverged",
    connecting: "connecting…", disconnected: "The connection to the playground was lost: is neurona playground still running?",
    legend_classify: "Colour: the neuron's output (blue 0, red 1); line: the decision boundary; filled: training points, rings: test points.",
    legend_regress: "Colour: the neuron's prediction (dark low, yellow high); points: the targets, same scale; rings: test points.",
    loss_axis: "loss", accuracy_axis: "accuracy", r2_axis: "R²", epoch_axis: "epoch",
    diverged_note: "Training diverged; the weights shown are the last finite ones.",
    your_file: "your file", upload: "Your CSV or Parquet file", target: "Target",
    missing: "Missing values", plane_x: "Across the plane", plane_y: "Up the plane",
    uploaded: "rows", class0: "class 0", class1: "class 1",
    clicking: "Click the plane to add a training point of this class; Shift-click removes the nearest.",
    download_run: "Download the run (zip)", take_away: "The same run, from the command line and in Python",
    edited_note: "The clicked points are the page's own: the command and the code train on the dataset as generated.",
    copy: "Copy", copied: "Copied.", not_editable: "Points are added by clicking on the built-in two-class datasets.",
  },
  es: {
    playground: "patio de juegos", tagline: "Una neurona, entrenada por el propio bucle de neurona en Python; esta página solo dibuja.",
    language: "Idioma", settings: "Ajustes", data: "Datos", dataset: "Conjunto", noise: "Ruido",
    n_samples: "Puntos", seed: "Semilla", model: "Modelo", activation: "Activación", loss: "Pérdida",
    scale: "Escalado", training: "Entrenamiento", optimizer: "Optimizador", learning_rate: "Tasa de aprendizaje",
    batch_size: "Tamaño de lote", epochs: "Épocas", apply: "Aplicar",
    plane: "Los datos y la frontera de decisión", play: "Reproducir", pause: "Pausa", step: "Una actualización",
    one_epoch: "Una época", reset: "Reiniciar", speed: "Velocidad",
    keys: "Teclas: Espacio reproducir/pausa, S una actualización, E una época, R reiniciar.",
    neuron: "La neurona", epoch: "Época", update: "Actualizaciones", status: "Estado",
    train_loss: "Pérdida de entrenamiento", train_accuracy: "Exactitud de entrenamiento", test_loss: "Pérdida de prueba",
    test_accuracy: "Exactitud de prueba", train_r2: "R² de entrenamiento", test_r2: "R² de prueba",
    train: "entrenamiento", test: "prueba", download: "Descargar model.json",
    ready: "lista", paused: "en pausa", playing: "entrenando", finished: "terminado", diverged: "divergió",
    connecting: "conectando…", disconnected: "Se perdió la conexión con el patio de juegos: ¿sigue en marcha neurona playground?",
    legend_classify: "Color: la salida de la neurona (azul 0, rojo 1); línea: la frontera de decisión; rellenos: puntos de entrenamiento, anillos: puntos de prueba.",
    legend_regress: "Color: la predicción de la neurona (oscuro bajo, amarillo alto); puntos: los objetivos, misma escala; anillos: puntos de prueba.",
    loss_axis: "pérdida", accuracy_axis: "exactitud", r2_axis: "R²", epoch_axis: "época",
    diverged_note: "El entrenamiento divergió; los pesos mostrados son los últimos finitos.",
    your_file: "tu archivo", upload: "Tu archivo CSV o Parquet", target: "Objetivo",
    missing: "Valores faltantes", plane_x: "A lo ancho del plano", plane_y: "A lo alto del plano",
    uploaded: "filas", class0: "clase 0", class1: "clase 1",
    clicking: "Haz clic en el plano para añadir un punto de entrenamiento de esta clase; Mayús+clic quita el más cercano.",
    download_run: "Descargar la ejecución (zip)", take_away: "La misma ejecución, en la línea de órdenes y en Python",
    edited_note: "Los puntos añadidos con clic son de esta página: la orden y el código entrenan con el conjunto tal como se genera.",
    copy: "Copiar", copied: "Copiado.", not_editable: "Los puntos se añaden con clic en los conjuntos de dos clases incorporados.",
  },
};
const CLASS_RGB = [[33, 102, 172], [247, 247, 247], [214, 96, 77]];   // blue, white, red
const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
const $ = (id) => document.getElementById(id);

const state = { lang: document.documentElement.dataset.lang || "en", start: null, frame: null,
                curves: [], touched: new Set(), playing: false, ws: null, id: null };

function t(key) { return (STRINGS[state.lang] || STRINGS.en)[key] || STRINGS.en[key] || key; }

function translate() {
  document.documentElement.lang = state.lang;
  $("lang").value = state.lang;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  $("play").textContent = t(state.playing ? "pause" : "play");
  if (state.start) { showLabels(); draw(); }
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
    form.elements[k].value = k === "batch_size" && v === null ? "" : String(v);
  }
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
  if (m.type === "error") { say(m.message); document.body.dataset.error = m.message; return; }
  if (m.type === "hello") { state.id = m.id; return; }
  if (m.type === "start") {
    state.start = m; state.curves = [];
    if (m.upload) showUpload(m.upload, m.feature_names);
    fillForm(m.settings);
    $("file-fields").hidden = m.settings.dataset !== "file";
    $("clicking").hidden = !m.editable;
    $("plane").dataset.points = String(m.n_train);
    $("plane").dataset.features = m.features.join(",");
    $("edited-note").hidden = !m.edited;
    $("command").textContent = m.command;
    $("python").textContent = m.python;
    say(""); delete document.body.dataset.error;
    showLabels();
  }
  if (m.type === "start" || m.type === "frame") {
    if (m.step === 0) state.curves = [];
    state.curves.push(...m.curves);
    state.frame = m;
    showFrame();
    draw();
  }
  if (m.type === "stopped") setPlaying(false);
  if (m.type === "model") download(m.document);
}

function say(text, note = false) {
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

function draw() { if (state.start && state.frame) { drawPlane(); drawCurves(); } }

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
function drawBoundary(ctx, field, px, py) {
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
  ctx.lineWidth = 2.5; ctx.strokeStyle = "#111"; ctx.setLineDash([]); ctx.stroke();
}

function drawCurves() {
  const canvas = $("curves"), ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
  ctx.clearRect(0, 0, W, H);
  const rows = state.curves, k = scoreKey(), epochs = state.frame.epochs;
  const panels = [["loss", t("loss_axis"), null], [k, t(k + "_axis"), k === "accuracy" ? [0, 1] : null]];
  panels.forEach(([key, label, fixed], p) => {
    const top = p * (H / 2) + 12, h = H / 2 - 40, left = 52, w = W - left - 12;
    const vals = rows.flatMap((r) => [r.train[key], r.test[key]]).filter((x) => x !== null && x !== undefined && isFinite(x));
    let [lo, hi] = fixed || [Math.min(...vals), Math.max(...vals)];
    if (!vals.length && !fixed) [lo, hi] = [0, 1];
    if (hi === lo) { hi += 1; lo -= 1; }
    ctx.strokeStyle = "#999"; ctx.lineWidth = 1; ctx.setLineDash([]);
    ctx.strokeRect(left, top, w, h);
    ctx.fillStyle = "#333"; ctx.font = "12px system-ui, sans-serif";
    ctx.fillText(label, 4, top + 10);
    ctx.fillText(num(hi, 3), 4, top + 26); ctx.fillText(num(lo, 3), 4, top + h);
    ctx.fillText(t("epoch_axis") + " " + epochs, left + w - 70, top + h + 16);
    for (const [part, colour, dash] of [["train", "#0072b2", []], ["test", "#e69f00", [6, 4]]]) {
      ctx.beginPath(); ctx.strokeStyle = colour; ctx.lineWidth = 2; ctx.setLineDash(dash);
      let started = false;
      for (const r of rows) {
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
  if (!response.ok) { say(answer.error); document.body.dataset.error = answer.error; return; }
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

function clickPlane(e) {
  if (!state.start || !state.frame) return;
  if (!state.start.editable) { say(t("not_editable"), true); return; }
  const rect = $("plane").getBoundingClientRect(), [x0, x1, y0, y1] = state.frame.field.bounds;
  const x = x0 + ((e.clientX - rect.left) / rect.width) * (x1 - x0);
  const y = y1 - ((e.clientY - rect.top) / rect.height) * (y1 - y0);
  setPlaying(false);
  if (e.shiftKey) send({ cmd: "remove", x, y });
  else send({ cmd: "point", x, y, label: Number(document.querySelector("input[name=click-class]:checked").value) });
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
