/* Widgets on a static page, with no kernel and no server.
 *
 * The page carries the notebook's saved widget state (a <script> of type
 * application/vnd.jupyter.widget-state+json) and, where each widget was displayed, a
 * <div class="site-widget" data-model-id="..."> holding a fallback picture. For every such
 * anywidget this script builds a small model from the saved state with anywidget's model API
 * (get, set, on, off, save_changes, send), loads the widget's own ESM (the `_esm` trait, the same
 * code that runs in JupyterLab) from a blob: URL and lets it render into the div. `send` has no
 * kernel to reach: it is recorded (window.__siteWidgets.sent) and otherwise ignored.
 * Plain script (not a module), so that the page also works when opened from a folder (file://).
 */
(function () {
  "use strict";

  function decodeBuffer(b64) {
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new DataView(bytes.buffer);
  }

  // The saved state puts binary traits aside as base64 "buffers" with their path in the state.
  function withBuffers(state, buffers) {
    const out = JSON.parse(JSON.stringify(state));
    for (const buf of buffers || []) {
      let obj = out;
      for (const key of buf.path.slice(0, -1)) obj = obj[key];
      obj[buf.path[buf.path.length - 1]] = decodeBuffer(buf.data);
    }
    return out;
  }

  class StaticModel {
    constructor(id, state) {
      this.model_id = id;
      this._state = state;
      this._listeners = new Map();
      this.sent = [];
    }
    get(name) { return this._state[name]; }
    set(name, value) {
      const old = this._state[name];
      this._state[name] = value;
      if (old !== value) this._emit("change:" + name, [this, value]);
    }
    on(event, callback) {
      for (const name of event.split(/\s+/)) {
        if (!this._listeners.has(name)) this._listeners.set(name, new Set());
        this._listeners.get(name).add(callback);
      }
    }
    off(event, callback) {
      const names = event ? event.split(/\s+/) : Array.from(this._listeners.keys());
      for (const name of names) {
        const set = this._listeners.get(name);
        if (!set) continue;
        if (callback) set.delete(callback); else set.clear();
      }
    }
    save_changes() { this._emit("change", [this]); }
    send(content, callbacks, buffers) {
      this.sent.push(content);
      window.__siteWidgets.sent.push({model: this.model_id, content: content});
    }
    _emit(name, args) {
      for (const cb of Array.from(this._listeners.get(name) || [])) {
        try { cb.apply(null, args); } catch (err) { console.error(err); }
      }
    }
  }

  async function widgetDefinition(esm) {
    const url = URL.createObjectURL(new Blob([esm], {type: "text/javascript"}));
    try {
      const mod = await import(url);
      let def = mod.default !== undefined ? mod.default : mod;
      if (typeof def === "function") def = await def();
      return def;
    } finally {
      URL.revokeObjectURL(url);
    }
  }

  function addCss(css, id) {
    if (!css || document.querySelector(`style[data-widget-css="${id}"]`)) return;
    const style = document.createElement("style");
    style.dataset.widgetCss = id;
    style.textContent = css;
    document.head.appendChild(style);
  }

  async function mount(el, saved, id, definitions) {
    const state = withBuffers(saved.state, saved.buffers);
    const esm = state._esm;
    if (typeof esm !== "string" || !esm.trim() || /^https?:/.test(esm.trim())) return false;
    if (!definitions.has(esm)) definitions.set(esm, widgetDefinition(esm));
    const def = await definitions.get(esm);
    addCss(state._css, state._anywidget_id || id);
    const model = new StaticModel(id, state);
    if (def.initialize) await def.initialize({model: model});
    const fallback = Array.from(el.childNodes);
    const host = document.createElement("div");
    host.className = "site-widget-live";
    el.appendChild(host);
    await def.render({model: model, el: host});
    for (const node of fallback) node.remove();
    window.__siteWidgets.models[id] = model;
    return true;
  }

  async function main() {
    window.__siteWidgets = {models: {}, sent: [], errors: [], mounted: 0, ready: false};
    const tag = document.querySelector('script[type="application/vnd.jupyter.widget-state+json"]');
    const all = tag ? JSON.parse(tag.textContent).state : {};
    const definitions = new Map();
    for (const el of document.querySelectorAll(".site-widget[data-model-id]")) {
      const id = el.dataset.modelId;
      const saved = all[id];
      try {
        if (saved && saved.model_module === "anywidget" && await mount(el, saved, id, definitions)) {
          el.classList.add("site-widget-mounted");
          window.__siteWidgets.mounted += 1;
        }
      } catch (err) {
        console.error(err);
        window.__siteWidgets.errors.push(`${id}: ${err}`);
      }
    }
    window.__siteWidgets.ready = true;
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main);
  else main();
})();
