// The npm package's entry: ESM, with the widget's wasm and glue beside it.
// Bundlers (Vite, webpack, Rollup) see `import()` and `new URL(…, import.meta.url)`
// and ship both files; nothing to configure.
import "./ringside-chat.js";

const assets = {
  glue: () => import("./ringside-chat-widget.js"),
  wasm: new URL("./ringside-chat-widget_bg.wasm", import.meta.url),
  // Another language's texts, only for a page in it: bundlers make one small
  // chunk per language from this pattern.
  locale: (name) => import(`./ringside-chat.${name}.json`).then((module) => module.default),
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
