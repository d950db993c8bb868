/*! Ringside Chat loader. Paints the launcher at once; the widget itself (wasm)
 * is fetched on idle or on first interaction. Used three ways: a <script> tag
 * (options from its data-* attributes), the <ringside-chat> element, and
 * RingsideChat.mount(options) (the npm package). Each widget lives in its own
 * shadow root, so the page's CSS and the widget's never meet. */
(function () {
  "use strict";
  // Which <script> is running, read through Document's own getter: an
  // injected <img name="currentScript"> shadows `document.currentScript`
  // (DOM clobbering) but not the getter, and only a script element is taken.
  var script = Object.getOwnPropertyDescriptor(Document.prototype, "currentScript").get.call(document);
  if (!(script instanceof HTMLScriptElement)) script = null;
  var existing = window.RingsideChat;
  if (existing && typeof existing.mount == "function") {
    if (script && script.dataset.tokenEndpoint) {
      console.warn("[ringside-chat] the loader was included twice; the second copy does nothing");
    }
    return;
  }

  var CSS =
    // `all: initial` keeps the page's inherited styles out; what we set after
    // it must be !important too, or `all` (important) would win over it.
    ":host{all:initial!important;display:block!important;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif!important;color-scheme:light!important}" +
    ":host([data-mode=floating]){position:fixed!important;z-index:2147483000!important;inset:auto max(20px,env(safe-area-inset-right)) max(20px,env(safe-area-inset-bottom)) auto!important;width:auto!important;height:auto!important}" +
    ":host([data-mode=floating][data-position=left]){inset:auto auto max(20px,env(safe-area-inset-bottom)) max(20px,env(safe-area-inset-left))!important}" +
    ":host([data-mode=inline]){position:relative!important;width:100%!important;height:100%!important;min-height:320px!important}" +
    ":host([data-theme=dark]){color-scheme:dark!important}" +
    "@media (prefers-color-scheme:dark){:host([data-theme=auto]){color-scheme:dark!important}}" +
    ".rsc-launcher{all:unset;box-sizing:border-box;position:relative;display:grid;place-items:center;width:56px;height:56px;border-radius:50%;background:var(--ringside-accent,#4f46e5);color:var(--ringside-on-accent,#fff);cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}" +
    ".rsc-launcher:hover{filter:brightness(1.1)}" +
    ".rsc-launcher:focus-visible{outline:3px solid var(--ringside-focus,#b45309);outline-offset:3px}" +
    ".rsc-launcher[aria-busy=true]{cursor:progress}" +
    ".rsc-launcher svg{width:26px;height:26px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}" +
    ".rsc-badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 5px;border-radius:10px;background:#b91c1c;color:#fff;font:600 12px/20px system-ui,sans-serif;text-align:center;box-sizing:border-box}" +
    ".rsc-badge[hidden]{display:none}" +
    "@media (prefers-reduced-motion:no-preference){.rsc-launcher{transition:transform .15s}.rsc-launcher:active{transform:scale(.94)}}";

  // Option names, camelCase; attributes use the kebab-case form.
  var OPTIONS = ["tokenEndpoint", "tokenCredentials", "tokenHeaders", "apiBase", "model", "title", "welcome",
    "suggestions", "placeholder", "theme", "position", "persist", "strings", "open", "mode", "container", "context",
    "maxLength", "historyLimit", "outOfCreditMessage", "stallTimeoutMs", "dir", "name", "feedbackEndpoint", "locale"];
  var EVENTS = ["open", "close", "message", "error", "token", "feedback"];
  // The languages with bundled texts besides English (built in), each in
  // ringside-chat.<locale>.json beside this file, fetched only for a page in it.
  var LOCALES = ["es", "fr", "de", "pt-BR", "it", "nl", "ja", "zh-CN", "ko", "ar", "he", "hi", "ru", "pl", "tr"];
  // Stored conversations: "ringside-chat:v2:{tokenEndpoint}#{name}@{customer}".
  var STORED = "ringside-chat:";
  var kebab = function (name) { return name.replace(/[A-Z]/g, function (c) { return "-" + c.toLowerCase(); }); };

  var sheet = null;
  var assets = null;
  var widget = null;
  var instances = 0;
  var elements = 0;
  var live = [];

  /** Removes the stored conversations whose keys start with `prefix`, in both storages. */
  function forget(prefix) {
    ["localStorage", "sessionStorage"].forEach(function (name) {
      try {
        var store = window[name];
        for (var i = store.length; i--; ) {
          var key = store.key(i);
          if (key && key.indexOf(prefix) == 0) store.removeItem(key);
        }
      } catch (e) {} // storage blocked: nothing was stored either
    });
  }

  /** The widget's module, fetched and instantiated (streaming) once for all widgets. */
  function loadWidget() {
    if (!widget) {
      widget = assets.glue().then(function (module) {
        return module.default({ module_or_path: assets.wasm }).then(function () { return module; });
      });
      widget.catch(function (error) {
        widget = null;
        console.error("[ringside-chat] the widget failed to load:", error);
      });
    }
    return widget;
  }

  /** Options from any source, checked: one console error for what is wrong, defaults instead. */
  function normalize(raw) {
    var o = {};
    var problems = [];
    Object.keys(raw || {}).forEach(function (key) {
      var name = key.replace(/-([a-z])/g, function (_, c) { return c.toUpperCase(); });
      if (OPTIONS.indexOf(name) < 0) problems.push("unknown option `" + key + "`");
      else if (raw[key] !== undefined && raw[key] !== null) o[name] = raw[key];
    });
    var choose = function (name, allowed) {
      if (o[name] === undefined) o[name] = allowed[0];
      else if (allowed.indexOf(o[name]) < 0) {
        problems.push("option `" + name + "` must be " + allowed.join(" or ") + "; using " + allowed[0]);
        o[name] = allowed[0];
      }
    };
    choose("mode", ["floating", "inline"]);
    choose("theme", ["light", "dark", "auto"]);
    // The visitor's language: the option, else the page's, else the first
    // of the browser's we have texts for. Texts go by language (pt: pt-BR,
    // zh: zh-CN); numbers and times by the whole tag.
    var tags = [].concat(o.locale || document.documentElement.lang || navigator.languages || []);
    o.texts = "";
    tags.some(function (tag) {
      var lang = String(tag).toLowerCase().split("-")[0];
      var found = LOCALES.filter(function (l) { return l.split("-")[0] == lang; })[0];
      if (found || lang == "en") return (o.texts = found || ""), (o.locale = String(tag));
    });
    o.locale = String(o.locale || tags[0] || "en");
    var rtl = o.texts == "ar" || o.texts == "he" || document.documentElement.dir == "rtl";
    choose("dir", [rtl ? "rtl" : "ltr", "ltr", "rtl"]);
    // Mirrored, the launcher goes to the other corner too.
    choose("position", o.dir == "rtl" ? ["left", "right"] : ["right", "left"]);
    if (typeof o.container === "string") o.container = document.querySelector(o.container);
    if (o.mode === "inline" && !(o.container instanceof Element)) {
      problems.push("option `container` must be an element or a selector of one in inline mode; using floating");
      o.mode = "floating";
    }
    o.open = o.open === true || o.open === "" || o.open === "true";
    if (typeof o.strings === "string") {
      try { o.strings = JSON.parse(o.strings); } catch (e) { problems.push("option `strings` is not JSON"); delete o.strings; }
    }
    if (problems.length) console.error("[ringside-chat] " + problems.join("; "));
    return o;
  }

  /** Mounts one widget; resolves to its handle once its launcher (or inline panel host) is on the page. */
  function mount(options, moduleAssets) {
    if (moduleAssets) assets = moduleAssets;
    if (!assets) return Promise.reject(new Error("[ringside-chat] no widget assets: load ringside-chat.js with a <script> tag or import the npm package"));
    var o = normalize(options);
    var strings = o.strings || {};
    var text = function (key, fallback) { return typeof strings[key] === "string" ? strings[key] : fallback; };
    // Another language's texts, under the host's own (`strings` still wins).
    var texts = !o.texts ? Promise.resolve() : assets.locale(o.texts).then(function (bundled) {
      ["title", "placeholder", "welcome"].forEach(function (name) {
        if (o[name] === undefined) o[name] = bundled[name];
        delete bundled[name];
      });
      strings = o.strings = Object.assign(bundled, strings);
      if (launcher) label();
    }, function (error) {
      console.error("[ringside-chat] the " + o.texts + " texts failed to load; using English:", error);
    });
    // Two widgets with the same endpoint keep separate conversations.
    var index = instances++;
    if (o.name === undefined) o.name = index ? String(index) : "";
    // Made here, so signOut() forgets a widget's conversations without its wasm.
    o.storageKey = STORED + "v2:" + (o.tokenEndpoint || "") + "#" + o.name + "@";

    var host = document.createElement("div");
    host.setAttribute("data-ringside-chat", "");
    host.setAttribute("data-mode", o.mode);
    host.setAttribute("data-theme", o.theme);
    host.setAttribute("data-position", o.position);
    host.setAttribute("dir", o.dir);
    host.setAttribute("lang", o.locale);
    var root = host.attachShadow({ mode: "open" });
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
    }
    root.adoptedStyleSheets = [sheet];

    var listeners = {};
    var wasm = null;
    var loading = null;
    var destroyed = false;
    var idle = 0;
    var launcher = null;
    var badge = null;
    var unread = 0;

    var label = function () {
      var open = launcher.getAttribute("aria-expanded") === "true";
      var name = open ? text("closeChat", "Close chat") : text("openChat", "Open chat");
      launcher.setAttribute("aria-label", unread && !open ? name + " (" + text("unread", "{n} unread").replace("{n}", unread.toLocaleString(o.locale)) + ")" : name);
      badge.hidden = !unread || open;
      badge.textContent = String(unread);
    };
    var emit = function (name, detail) {
      if (launcher) {
        if (name === "open" || name === "close") {
          launcher.setAttribute("aria-expanded", String(name === "open"));
          unread = 0;
          if (name === "close" && root.activeElement) launcher.focus();
        } else if (name === "message" && launcher.getAttribute("aria-expanded") !== "true") {
          unread++; // an answer finished while the panel was closed
        }
        label();
      }
      (listeners[name] || []).slice().forEach(function (cb) {
        try { cb(detail); } catch (e) { console.error(e); }
      });
      host.dispatchEvent(new CustomEvent("ringside-chat:" + name, { detail: detail, bubbles: true, composed: true }));
    };
    var ready = function () {
      if (!loading) {
        loading = Promise.all([loadWidget(), texts]).then(function (loaded) {
          var module = loaded[0];
          if (destroyed) throw new Error("[ringside-chat] destroyed");
          var json = {};
          Object.keys(o).forEach(function (k) { if (k !== "container" && k !== "texts") json[k] = o[k]; });
          wasm = module.mount(root, JSON.stringify(json), emit);
          // Conversations kept on the server: a module of their own, only for them.
          if (o.persist == "server") {
            var mounted = wasm;
            assets.threads().then(function (threads) {
              if (wasm == mounted) threads.attach(wasm, root, o, function () { return strings; }, handle.on);
            }, function (error) { console.error("[ringside-chat] the threads module failed to load:", error); });
          }
          return wasm;
        });
        loading.catch(function () { loading = null; });
      }
      return loading;
    };
    var call = function (method, arg) {
      return ready().then(function (w) { return w[method](arg); });
    };

    if (o.mode === "floating") {
      launcher = document.createElement("button");
      launcher.type = "button";
      launcher.className = "rsc-launcher";
      launcher.setAttribute("part", "launcher");
      launcher.setAttribute("aria-expanded", "false");
      var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      svg.setAttribute("viewBox", "0 0 24 24");
      svg.setAttribute("aria-hidden", "true");
      var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
      path.setAttribute("d", "M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z");
      svg.appendChild(path);
      launcher.appendChild(svg);
      badge = document.createElement("span");
      badge.className = "rsc-badge";
      launcher.appendChild(badge);
      label();
      root.appendChild(launcher);
      launcher.addEventListener("click", function () {
        launcher.setAttribute("aria-busy", "true");
        call("toggle").then(null, function () {}).then(function () { launcher.removeAttribute("aria-busy"); });
      });
      // Near the launcher: get the widget and a token ready before the click.
      var warm = function () { call("prefetch").then(null, function () {}); };
      launcher.addEventListener("pointerenter", warm, { once: true, passive: true });
      launcher.addEventListener("focus", warm, { once: true });
      var later = window.requestIdleCallback || function (f) { return setTimeout(f, 1500); };
      idle = later(function () { idle = 0; ready().then(null, function () {}); }, { timeout: 4000 });
    }

    var attach = function () {
      (o.mode === "inline" ? o.container : document.body).appendChild(host);
      if (o.mode === "inline") ready().then(null, function () {});
      if (o.open) call("open").then(null, function () {});
    };
    if (document.body) attach();
    else document.addEventListener("DOMContentLoaded", attach, { once: true });

    var handle = {
      /** Opens the panel (loading the widget if needed). */
      open: function () { return call("open"); },
      /** Closes the panel. */
      close: function () { return wasm ? Promise.resolve(wasm.close()) : Promise.resolve(); },
      /** Opens or closes the panel. */
      toggle: function () { return call("toggle"); },
      /** Sends `text` as the user's message; resolves to false if it was refused. */
      send: function (text) { return call("send", String(text)); },
      /** Starts a new conversation. */
      reset: function () { return call("reset"); },
      /** The user signed out: forgets their token, transcript and stored conversations. */
      signOut: function () {
        forget(o.storageKey);
        if (wasm) wasm.signOut();
        return Promise.resolve();
      },
      /** Replaces the context sent with each question (where the user is). */
      setContext: function (context) {
        o.context = context;
        return call("setContext", context == null ? "" : typeof context === "string" ? context : JSON.stringify(context));
      },
      /** Listens to `open`, `close`, `message`, `error` or `token`; returns a function that stops listening. */
      on: function (name, cb) {
        if (EVENTS.indexOf(name) < 0) throw new Error("[ringside-chat] unknown event `" + name + "`");
        (listeners[name] = listeners[name] || []).push(cb);
        return function () { listeners[name] = (listeners[name] || []).filter(function (f) { return f !== cb; }); };
      },
      /** Removes the widget: no element, listener or timer stays behind. */
      destroy: function () {
        if (destroyed) return;
        destroyed = true;
        if (idle) (window.cancelIdleCallback || clearTimeout)(idle);
        document.removeEventListener("DOMContentLoaded", attach);
        if (wasm) {
          wasm.destroy();
          wasm.free();
        }
        wasm = null;
        listeners = {};
        live.splice(live.indexOf(handle), 1);
        host.remove();
      },
    };
    live.push(handle);
    return Promise.resolve(handle);
  }

  /** Options of an element's attributes: data-token-endpoint or token-endpoint. */
  function fromAttributes(element, prefix) {
    var options = {};
    OPTIONS.forEach(function (name) {
      var value = element.getAttribute(prefix + kebab(name));
      if (value !== null) options[name] = value;
    });
    return options;
  }

  var api = {
    mount: mount,
    version: "0.1.0",
    /** Every widget forgets its user, and every stored conversation goes: for the host's logout. */
    clearAll: function () {
      forget(STORED);
      live.forEach(function (handle) { handle.signOut(); });
    },
  };
  window.RingsideChat = api;

  if (window.customElements && !customElements.get("ringside-chat")) {
    /** `<ringside-chat token-endpoint="…" mode="inline">`; its attributes are live. */
    class RingsideChatElement extends HTMLElement {
      static get observedAttributes() { return OPTIONS.map(kebab); }
      connectedCallback() { this.render(); }
      disconnectedCallback() {
        if (this.handle) this.handle.destroy();
        this.handle = null;
        this.ready = null;
      }
      attributeChangedCallback() {
        // Several attributes may change at once: mount again once, after them all.
        if (!this.isConnected || this.pending) return;
        this.pending = true;
        queueMicrotask(() => {
          this.pending = false;
          if (this.isConnected) this.render();
        });
      }
      render() {
        if (this.handle) this.handle.destroy();
        this.handle = null;
        const options = fromAttributes(this, "");
        // Mounting again (an attribute changed) keeps the same stored conversation.
        if (options.name === undefined) options.name = this.storageName || (this.storageName = "element-" + ++elements);
        if (options.mode === "inline") {
          options.container = this;
          if (!this.style.display) this.style.display = "block";
        }
        const mounting = (this.ready = mount(options));
        mounting.then((handle) => {
          if (this.ready === mounting) this.handle = handle;
          else handle.destroy();
        });
      }
    }
    customElements.define("ringside-chat", RingsideChatElement);
  }

  // Our own URL: the running script's src; run as a module or from a bundle,
  // the one ringside-chat.js the browser fetched as a script (Resource Timing:
  // markup injected into the page cannot add to it).
  var src = script ? script.src : "";
  if (!script) {
    var urls = performance.getEntriesByType("resource").filter(function (e) {
      return e.initiatorType == "script" && /\/ringside-chat\.js([?#]|$)/.test(e.name);
    });
    if (urls.length == 1) src = urls[0].name;
  }
  if (src) {
    var base = new URL(".", src);
    assets = {
      glue: function () { return import(new URL("ringside-chat-widget.js", base).href); },
      wasm: new URL("ringside-chat-widget_bg.wasm", base),
      threads: function () { return import(new URL("ringside-chat-threads.js", base).href); },
      locale: function (name) {
        return fetch(new URL("ringside-chat." + name + ".json", base)).then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.json();
        });
      },
    };
    // A script tag with options mounts the floating widget.
    if (script && (script.hasAttribute("data-token-endpoint") || script.hasAttribute("data-mode"))) {
      api.ready = mount(fromAttributes(script, "data-"));
      ["open", "close", "toggle", "send", "reset", "signOut"].forEach(function (method) {
        api[method] = function (arg) { return api.ready.then(function (h) { return h[method](arg); }); };
      });
    }
  }
})();
