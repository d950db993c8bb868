/*! Ringside Chat loader: paints the launcher at once, then fetches the widget
 * (wasm) on idle or on first interaction. Options come from this script's
 * data-* attributes. Everything lives in a shadow root on a host element. */
(() => {
  "use strict";
  const script = document.currentScript;
  if (window.RingsideChat) {
    console.warn("[ringside-chat] the loader was included twice; the second copy does nothing");
    return;
  }
  const base = new URL(".", script ? script.src : location.href);
  const options = Object.assign({}, script ? script.dataset : {});

  const LAUNCHER_CSS = `
:host{all:initial;position:fixed;z-index:2147483000;right:20px;bottom:20px;font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color-scheme:light dark}
.rsc-launcher{all:unset;box-sizing:border-box;display:grid;place-items:center;width:56px;height:56px;border-radius:50%;background:var(--ringside-accent,#4f46e5);color:var(--ringside-on-accent,#fff);cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);margin-left:auto}
.rsc-launcher:hover{filter:brightness(1.1)}
.rsc-launcher:focus-visible{outline:3px solid var(--ringside-focus,#f59e0b);outline-offset:3px}
.rsc-launcher[aria-busy=true]{opacity:.8;cursor:progress}
.rsc-launcher svg{width:26px;height:26px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}
@media (prefers-reduced-motion:no-preference){.rsc-launcher{transition:transform .15s}.rsc-launcher:active{transform:scale(.94)}}`;

  const host = document.createElement("div");
  host.setAttribute("data-ringside-chat", "");
  const root = host.attachShadow({ mode: "open" });
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(LAUNCHER_CSS);
  root.adoptedStyleSheets = [sheet];

  const launcher = document.createElement("button");
  launcher.type = "button";
  launcher.className = "rsc-launcher";
  launcher.setAttribute("part", "launcher");
  launcher.setAttribute("aria-label", "Open chat");
  launcher.setAttribute("aria-expanded", "false");
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", "M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z");
  svg.appendChild(path);
  launcher.appendChild(svg);
  root.appendChild(launcher);

  let handle = null;
  let loading = null;
  const emit = (name, detail) => {
    if (name === "open" || name === "close") {
      const open = name === "open";
      launcher.setAttribute("aria-expanded", String(open));
      launcher.setAttribute("aria-label", open ? "Close chat" : "Open chat");
      if (!open && root.activeElement) launcher.focus();
    }
    host.dispatchEvent(new CustomEvent("ringside-chat:" + name, { detail, bubbles: true, composed: true }));
  };

  function load() {
    if (!loading) {
      loading = import(new URL("ringside-chat-widget.js", base).href)
        .then((widget) => widget.default({ module_or_path: new URL("ringside-chat-widget_bg.wasm", base) }).then(() => widget))
        .then((widget) => {
          handle = widget.mount(root, JSON.stringify(options), emit);
          return handle;
        })
        .catch((error) => {
          loading = null;
          console.error("[ringside-chat] the widget failed to load:", error);
          throw error;
        });
    }
    return loading;
  }

  launcher.addEventListener("click", () => {
    if (handle) return handle.toggle();
    launcher.setAttribute("aria-busy", "true");
    load()
      .then((h) => h.open())
      .catch(() => {})
      .finally(() => launcher.removeAttribute("aria-busy"));
  });
  for (const warm of ["pointerenter", "focus", "touchstart"]) {
    launcher.addEventListener(warm, () => load().catch(() => {}), { once: true, passive: true });
  }

  const attach = () => {
    document.body.appendChild(host);
    const idle = window.requestIdleCallback || ((f) => setTimeout(f, 1500));
    idle(() => load().catch(() => {}), { timeout: 4000 });
  };
  if (document.body) attach();
  else document.addEventListener("DOMContentLoaded", attach, { once: true });

  window.RingsideChat = {
    open: () => load().then((h) => h.open()),
    close: () => handle && handle.close(),
    toggle: () => load().then((h) => h.toggle()),
    send: (text) => load().then((h) => h.send(String(text))),
  };
})();
