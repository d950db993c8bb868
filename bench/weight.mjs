// Figure 1, weight: the raw, gzip (level 9) and brotli (quality 11) bytes of
// each file a visitor downloads, and what must arrive before the launcher is
// painted, before the first message can be sent, and before its answer is
// rendered (the answers chunk, fetched when the panel opens); the same for
// the peer.
//
//   node bench/weight.mjs --dist dist --out target/bench/weight.json
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import zlib from "node:zlib";

const { values: opts } = parseArgs({ options: { dist: { type: "string" }, out: { type: "string" } } });
if (!opts.dist || !opts.out) throw new Error("--dist and --out are required");

function sizes(file) {
  const raw = readFileSync(file);
  return {
    raw: raw.length,
    gzip: zlib.gzipSync(raw, { level: 9 }).length,
    brotli: zlib.brotliCompressSync(raw, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
      },
    }).length,
  };
}
const sum = (files) =>
  files.reduce((t, f) => ({ raw: t.raw + f.raw, gzip: t.gzip + f.gzip, brotli: t.brotli + f.brotli }), { raw: 0, gzip: 0, brotli: 0 });

const loader = { name: "ringside-chat.js", role: "loader (paints the launcher)", ...sizes(path.join(opts.dist, "ringside-chat.js")) };
const glue = { name: "ringside-chat-widget.js", role: "wasm-bindgen glue", ...sizes(path.join(opts.dist, "ringside-chat-widget.js")) };
const wasm = {
  name: "ringside-chat-widget_bg.wasm",
  role: "the widget (CSS compiled in)",
  ...sizes(path.join(opts.dist, "ringside-chat-widget_bg.wasm")),
};
// Its name carries its hash: ringside-chat-answers-<hash>.wasm.
const chunkName = readdirSync(opts.dist).find((n) => /^ringside-chat-(answers|markdown)-[0-9a-f]+\.wasm$/.test(n));
if (!chunkName) throw new Error(`${opts.dist} has no answers chunk`);
const markdown = {
  name: chunkName,
  role: "what only answers need: their Markdown parser and DOM builder, their rating, continuing one that broke off, showing a stored conversation, and the solver of a mint's challenge (a chunk of the widget's wasm, fetched when the panel opens)",
  ...sizes(path.join(opts.dist, chunkName)),
};
const deepChatPackage = JSON.parse(readFileSync(path.join(import.meta.dirname, "node_modules/deep-chat/package.json"), "utf8"));
const bundle = {
  name: "deepChat.bundle.js",
  role: `deep-chat ${deepChatPackage.version}, the one-file bundle for a script tag`,
  ...sizes(path.join(import.meta.dirname, "node_modules/deep-chat/dist/deepChat.bundle.js")),
};

const KB = 1024;
const result = {
  ringside: {
    files: [loader, glue, wasm, markdown],
    before_launcher: sum([loader]),
    before_send: sum([loader, glue, wasm]),
    before_answer: sum([loader, glue, wasm, markdown]),
    targets: { before_launcher_brotli: 4 * KB, before_send_brotli: 60 * KB, before_send_brotli_first_stop: 90 * KB },
  },
  "deep-chat": {
    version: deepChatPackage.version,
    files: [bundle],
    // deep-chat has no launcher: the chat itself is the first thing it paints.
    before_launcher: null,
    before_send: sum([bundle]),
    before_answer: sum([bundle]),
  },
};
writeFileSync(opts.out, JSON.stringify(result, null, 2));
console.error("[bench] weight", JSON.stringify({ ringside: result.ringside.before_send, "deep-chat": result["deep-chat"].before_send }));
