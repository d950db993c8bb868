// The npm package's entry: ESM, with the widget's wasm and glue beside it.
// Bundlers (Vite, webpack, Rollup) see `import()` and `new URL(…, import.meta.url)`
// and ship both files; nothing to configure.
import "./ringside-chat.js";

// The loader's LOCALES, each spelled out so that every bundler sees it.
const LOCALES = {
  "es": () => import("./ringside-chat.es.json"),
  "fr": () => import("./ringside-chat.fr.json"),
  "de": () => import("./ringside-chat.de.json"),
  "pt-BR": () => import("./ringside-chat.pt-BR.json"),
  "it": () => import("./ringside-chat.it.json"),
  "nl": () => import("./ringside-chat.nl.json"),
  "ja": () => import("./ringside-chat.ja.json"),
  "zh-CN": () => import("./ringside-chat.zh-CN.json"),
  "ko": () => import("./ringside-chat.ko.json"),
  "ar": () => import("./ringside-chat.ar.json"),
  "he": () => import("./ringside-chat.he.json"),
  "hi": () => import("./ringside-chat.hi.json"),
  "ru": () => import("./ringside-chat.ru.json"),
  "pl": () => import("./ringside-chat.pl.json"),
  "tr": () => import("./ringside-chat.tr.json"),
};

const assets = {
  glue: () => import("./ringside-chat-widget.js"),
  wasm: new URL("./ringside-chat-widget_bg.wasm", import.meta.url),
  // Another language's texts, only for a page in it: one small chunk per
  // language (bundlers leave a template import() in node_modules alone).
  locale: (name) => LOCALES[name]().then((module) => module.default),
  // Conversations kept on the server (persist: "server"), only for them.
  threads: () => import("./ringside-chat-threads.js"),
};

/**
 * Mounts a Ringside Chat widget. Resolves once its launcher (or inline panel)
 * is on the page; the widget's wasm loads on idle or first interaction.
 * @param {import("./index").ChatOptions} options
 * @returns {Promise<import("./index").ChatHandle>}
 */
export function mount(options = {}) {
  return window.RingsideChat.mount(options, assets);
}

/**
 * For the host's logout: every widget forgets its user (token, transcript),
 * and every stored conversation of every widget on this origin is removed.
 */
export function clearAll() {
  window.RingsideChat.clearAll();
}

export default { mount, clearAll };
