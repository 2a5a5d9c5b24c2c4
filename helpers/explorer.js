// The course's slider explorer, in the page (see helpers/explore.py for the protocol).
//
// It holds one picture per setting ("frames": {key: PNG}, key = the controls' option indices
// joined by ","); moving a control shows that setting's picture at once, with no kernel round
// trip. A setting with no picture yet shows the last one faded, with "computing…", until the
// kernel sends it. It uses nothing but anywidget's model API (get, set, on, save_changes, send),
// so a static page can run it on a small model built from the saved widget state.

const ALL = new WeakMap(); // model -> {urls: Map(key -> object URL), listeners: Set}

function toBytes(v) {
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (typeof v === "string") {
    const b64 = v.startsWith("data:") ? v.slice(v.indexOf(",") + 1) : v;
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  return null;
}

function store(model) {
  let s = ALL.get(model);
  if (s) return s;
  s = { urls: new Map(), listeners: new Set() };
  ALL.set(model, s);
  // replace: a frame sent again is a newer drawing of that setting (e.g. once a sweep it
  // summarises is complete); the saved state only fills in what is missing
  const add = (key, value, replace) => {
    if (s.urls.has(key) && !replace) return;
    const bytes = toBytes(value);
    if (!bytes) return;
    const old = s.urls.get(key);
    s.urls.set(key, URL.createObjectURL(new Blob([bytes], { type: "image/png" })));
    for (const f of s.listeners) f(key);
    if (old) setTimeout(() => URL.revokeObjectURL(old), 1000);
  };
  const fromState = () => {
    const frames = model.get("frames") || {};
    for (const key of Object.keys(frames)) add(key, frames[key], false);
  };
  fromState();
  model.on("change:frames", fromState);
  model.on("msg:custom", (msg, buffers) => {
    if (msg && msg.type === "frame" && buffers && buffers.length) add(msg.key, buffers[0], true);
  });
  return s;
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function render({ model, el: root }) {
  const frames = store(model);
  const controls = model.get("controls") || [];
  let index = (model.get("index") || []).slice();
  const decoded = new Map(); // key -> Image kept decoded for this view

  root.classList.add("idnn-explorer");
  root.dataset.lmSuppressShortcuts = "true"; // JupyterLab: keys inside belong to the controls
  const bar = el("div", "idnn-controls");
  const status = el("div", "idnn-status");
  const progress = el("progress", "idnn-progress");
  const message = el("div", "idnn-message");
  const note = el("div", "idnn-note", model.get("note") || "");
  note.style.display = model.get("note") ? "" : "none";
  const figure = el("div", "idnn-figure");
  const img = el("img", "idnn-frame");
  img.alt = "explorer picture";
  img.draggable = false;
  img.decoding = "sync"; // show a new setting in the very frame its picture is switched
  const w = model.get("width"), h = model.get("height");
  if (w && h) {
    img.style.width = `${w}px`;
    img.style.aspectRatio = `${w} / ${h}`;
  }
  figure.append(img, status); // "computing…" sits over the (faded) picture
  root.append(bar, progress, note, message, figure);

  const key = () => index.join(",");
  const live = () => model.get("live") !== false;

  function decode(k) {
    const url = frames.urls.get(k);
    if (!url || (decoded.has(k) && decoded.get(k).src === url)) return;
    const im = new Image();
    im.src = url;
    im.decode().catch(() => {});
    decoded.set(k, im);
  }

  function paint() {
    if (model.get("message")) return;
    const k = key();
    root.dataset.key = k;
    const failed = (model.get("errors") || {})[k];
    message.innerHTML = failed || "";
    message.style.display = failed ? "" : "none";
    if (failed) {
      figure.style.display = "none";
      root.dataset.state = "failed";
      status.textContent = "";
      return;
    }
    const url = frames.urls.get(k);
    if (url) {
      if (img.src !== url) img.src = url;
      figure.classList.remove("idnn-waiting");
      root.dataset.state = "shown";
      status.textContent = "";
    } else {
      figure.classList.add("idnn-waiting");
      root.dataset.state = "waiting";
      status.textContent = live() ? "computing this setting…"
        : "this setting was not drawn in this copy of the notebook";
    }
    figure.style.display = "";
    img.style.visibility = img.src ? "visible" : "hidden"; // its box keeps the picture's place
  }

  function showMessage() {
    const m = model.get("message") || "";
    if (!m) return paint();
    message.innerHTML = m;
    message.style.display = "";
    figure.style.display = "none";
    status.textContent = "";
    root.dataset.state = "not-done";
  }

  function showProgress() {
    const [done, total] = model.get("progress") || [0, 0];
    const busy = total > 0 && done < total && !model.get("message");
    progress.style.visibility = busy ? "visible" : "hidden"; // keeps its place: nothing jumps
    root.dataset.warming = busy ? "1" : "0";
    progress.max = Math.max(total, 1);
    progress.value = done;
    progress.title = `${done} of ${total} settings drawn`;
  }

  let sendTimer = null;
  function moved() {
    paint();
    if (sendTimer === null) {
      // tell the kernel (it draws missing settings nearest to this one first); at most one
      // message per animation frame while dragging
      sendTimer = requestAnimationFrame(() => {
        sendTimer = null;
        model.set("index", index.slice());
        model.save_changes();
      });
    }
  }

  const syncers = []; // per control: put its input on index[j] (a move made by the kernel)
  controls.forEach((c, j) => {
    const box = el("label", `idnn-control idnn-${c.kind}`);
    const name = el("span", "idnn-label", c.label);
    const readout = el("span", "idnn-readout", c.options[index[j]] ?? "");
    const set = (i) => {
      index[j] = i;
      readout.textContent = c.options[i] ?? "";
      moved();
    };
    if (c.kind === "checkbox") {
      const input = el("input");
      input.type = "checkbox";
      input.checked = index[j] === 1;
      input.addEventListener("change", () => set(input.checked ? 1 : 0));
      syncers.push((i) => { input.checked = i === 1; });
      box.append(input, name);
    } else if (c.kind === "dropdown") {
      const select = el("select");
      c.options.forEach((o, i) => {
        const opt = el("option", "", o);
        opt.value = String(i);
        select.append(opt);
      });
      select.value = String(index[j]);
      select.addEventListener("change", () => set(Number(select.value)));
      syncers.push((i) => { select.value = String(i); });
      box.append(name, select);
    } else if (c.kind === "toggle") {
      const group = el("span", "idnn-buttons");
      const buttons = c.options.map((o, i) => {
        const b = el("button", i === index[j] ? "idnn-on" : "", o);
        b.type = "button";
        b.addEventListener("click", () => {
          buttons.forEach((x, n) => x.classList.toggle("idnn-on", n === i));
          set(i);
        });
        return b;
      });
      syncers.push((i) => buttons.forEach((x, n) => x.classList.toggle("idnn-on", n === i)));
      group.append(...buttons);
      box.append(name, group);
    } else {
      const input = el("input");
      input.type = "range";
      input.min = "0";
      input.max = String(c.options.length - 1);
      input.step = "1";
      input.value = String(index[j]);
      input.setAttribute("aria-label", c.label);
      input.addEventListener("input", () => set(Number(input.value)));
      // The keys move the slider here (a host page may swallow their default action, as
      // JupyterLab's shortcuts do): one option per arrow, ends with Home and End.
      input.addEventListener("keydown", (e) => {
        const last = c.options.length - 1, now = Number(input.value);
        const to = { ArrowRight: now + 1, ArrowUp: now + 1, ArrowLeft: now - 1,
          ArrowDown: now - 1, PageUp: now + 1, PageDown: now - 1, Home: 0, End: last }[e.key];
        if (to === undefined) return;
        e.preventDefault();
        e.stopPropagation();
        const i = Math.max(0, Math.min(last, to));
        if (i !== now) {
          input.value = String(i);
          set(i);
        }
      });
      syncers.push((i) => { input.value = String(i); });
      box.append(name, input, readout);
    }
    const sync = syncers[j];
    syncers[j] = (i) => { sync(i); readout.textContent = c.options[i] ?? ""; };
    box.dataset.control = c.name;
    bar.append(box);
  });

  const onFrame = (k) => {
    decode(k);
    if (k === key()) paint();
  };
  frames.listeners.add(onFrame);
  for (const k of frames.urls.keys()) decode(k);

  model.on("change:index", () => {
    const now = model.get("index") || [];
    if (now.join(",") === key()) return;
    index = now.slice();
    index.forEach((i, j) => syncers[j] && syncers[j](i));
    paint();
  });
  model.on("change:message", showMessage);
  model.on("change:errors", paint);
  model.on("change:progress", showProgress);
  showMessage();
  showProgress();

  // In a live notebook, hide the plain picture that the kernel keeps under this output for
  // exports (it is for readers without widgets).
  const child = root.closest(".jp-OutputArea-child");
  const next = child && child.nextElementSibling;
  if (next && next.querySelector(".idnn-explorer-fallback")) next.style.display = "none";

  model.send({ type: "ready" });
  return () => {
    frames.listeners.delete(onFrame);
    model.send({ type: "gone" }); // e.g. the cell ran again: the kernel stops warming this one
  };
}

export default { render };
