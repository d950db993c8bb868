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
.rsc-badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 5px;border-radius:10px;background:#b91c1c;color:#fff;font:600 12px/20px system-ui,sans-serif;text-align:center;box-sizing:border-box}
.rsc-badge[hidden]{display:none}
.rsc-launcher{position:relative}
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
  const badge = document.createElement("span");
  badge.className = "rsc-badge";
  badge.hidden = true;
  launcher.appendChild(badge);
  root.appendChild(launcher);
  let unread = 0;
  const setUnread = (n) => {
    unread = n;
    badge.hidden = n === 0;
    badge.textContent = String(n);
    launcher.setAttribute("aria-label", n ? `Open chat (${n} unread)` : "Open chat");
  };

  let handle = null;
  let loading = null;
  const emit = (name, detail) => {
    const open = launcher.getAttribute("aria-expanded") === "true";
    if (name === "open") {
      setUnread(0);
      launcher.setAttribute("aria-expanded", "true");
      launcher.setAttribute("aria-label", "Close chat");
    } else if (name === "close") {
      launcher.setAttribute("aria-expanded", "false");
      setUnread(0);
      if (root.activeElement) launcher.focus();
    } else if (name === "message" && !open) {
      // An answer finished while the panel was closed.
      setUnread(unread + 1);
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
  // Near the launcher: get the widget and a token ready before the click.
  for (const warm of ["pointerenter", "focus", "touchstart"]) {
    launcher.addEventListener(warm, () => load().then((h) => h.prefetch(), () => {}), { once: true, passive: true });
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
    reset: () => load().then((h) => h.reset()),
  };
})();
