// Writes BENCHMARKS.md and BENCHMARKS.json from what `cargo xtask bench`
// measured (target/bench/*.json and criterion's estimates): a table per
// figure, its method and command, ours beside deep-chat's as ratios, and the
// machine and its load, since other work shares its two cores.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

const { values: opts } = parseArgs({
  options: {
    in: { type: "string" },
    criterion: { type: "string" },
    "started-ms": { type: "string" },
    "load-start": { type: "string", default: "" },
    "load-end": { type: "string", default: "" },
    quick: { type: "boolean", default: false },
    "out-md": { type: "string" },
    "out-json": { type: "string" },
  },
});
const read = (name) => {
  const file = path.join(opts.in, name);
  return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : null;
};
const weight = read("weight.json");
const browser = read("browser.json");
const mint = read("mint.json");
const streams = read("streams.json");

// ------------------------------------------------------------ native parser

function criterion(name) {
  const dir = path.join(opts.criterion, "sse", name, "new");
  if (!existsSync(path.join(dir, "estimates.json"))) return null;
  const estimates = JSON.parse(readFileSync(path.join(dir, "estimates.json"), "utf8"));
  const bench = JSON.parse(readFileSync(path.join(dir, "benchmark.json"), "utf8"));
  const bytes = bench.throughput.Bytes;
  const ns = estimates.median.point_estimate;
  return { bytes, median_ns: Math.round(ns), mb_per_s: Math.round((bytes / ns) * 1000 * 10) / 10 };
}
const parserNative = Object.fromEntries(["frame_reads", "16k_reads", "1_byte_reads"].map((n) => [n, criterion(n)]));

// ------------------------------------------------------------------ machine

const sh = (cmd, args) => {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "";
  }
};
const cpu = (readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/) ?? [])[1] ?? "unknown";
const wallS = opts["started-ms"] ? (Date.now() - Number(opts["started-ms"])) / 1000 : null;
const machine = {
  date: browser?.measured_at ?? new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
  commit: browser?.commit ?? sh("git", ["rev-parse", "--short", "HEAD"]),
  cores: os.cpus().length,
  cpu,
  memory_gib: Math.round(os.totalmem() / 2 ** 30),
  load_at_start: opts["load-start"].split(" ").slice(0, 3).join(" "),
  load_at_end: opts["load-end"].split(" ").slice(0, 3).join(" "),
  chromium: browser?.chromium ?? null,
  node: process.version,
  rustc: sh("rustc", ["--version"]),
  wall_time_s: wallS === null ? null : Math.round(wallS),
  quick: opts.quick,
};

const json = {
  about:
    "Benchmarks of Ringside Chat beside deep-chat (cargo xtask bench). Times in ms, sizes in bytes, throughput in MB/s (10^6 bytes). Not tests: nothing here fails on a number.",
  machine,
  weight,
  startup: browser?.startup ?? null,
  streaming: browser?.streaming ?? null,
  latency: browser?.latency ?? null,
  parser: { native: parserNative, wasm: browser?.parser_wasm ?? null },
  servers: { mint, mock_streams: streams },
  browser_phases: browser?.phases ?? null,
};
writeFileSync(opts["out-json"], JSON.stringify(json, null, 2) + "\n");

// ----------------------------------------------------------------- markdown

const fmt = (x, digits = 0) => (x === null || x === undefined || !Number.isFinite(x) ? "–" : x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }));
/** A figure per 1k tokens: a decimal below 10 ms (flooded answers cost 1 to 5), none above. */
const perK = (x) => fmt(x, Number.isFinite(x) && Math.abs(x) < 10 ? 1 : 0);
const kb = (bytes) => (bytes === null || bytes === undefined ? "–" : `${(bytes / 1024).toFixed(1)} KB`);
/** deep-chat's figure over ours: above 1, ours is lighter, faster or cheaper by that factor. */
const ratio = (peer, ours) => (Number.isFinite(peer) && Number.isFinite(ours) && ours > 0 ? `${(peer / ours).toFixed(peer / ours >= 10 ? 0 : 1)}×` : "–");
/** A streaming figure of an answer that was run and finished (any other is no figure). */
const finished = (x) => x && !x.skipped && !x.unresponsive && x.finished !== false;
const meets = (value, target) => (Number.isFinite(value) ? (value <= target ? "✅ met" : "❌ not met") : "–");
const table = (head, rows) => [`| ${head.join(" | ")} |`, `| ${head.map(() => "---").join(" | ")} |`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");

const md = [];
const p = (...lines) => md.push(...lines, "");

p(
  "# Benchmarks",
  `What users feel, measured by \`cargo xtask bench\` (issue #8) on ${machine.date}, commit \`${machine.commit}\`. ` +
    "Benchmarks, not tests: no number fails anything, and CI does not run them. " +
    "`BENCHMARKS.json` beside this file has every figure, and more, for machines.",
);
p(
  `**Machine.** ${machine.cores} cores (${machine.cpu}), ${machine.memory_gib} GiB. ` +
    `Load average (1, 5, 15 min) at the start: ${machine.load_at_start || "–"}; at the end: ${machine.load_at_end || "–"}. ` +
    "The machine may be shared (a load above 1 at the start says someone else was at work on its two cores), so every timing is noisy; read differences under about 20 % as noise. " +
    `Debian's Chromium ${machine.chromium ?? "–"}, headless, \`--disable-gpu\` (software rendering: painting costs more than on a desktop), on loopback only. ` +
    `Node ${machine.node}, ${machine.rustc}. ` +
    `**Total wall time: ${machine.wall_time_s === null ? "–" : `${Math.floor(machine.wall_time_s / 60)} min ${machine.wall_time_s % 60} s`}**${machine.quick ? " (a `--quick` run: fewer, shorter runs)" : ""}.`,
);
p(
  "**The peer.** [deep-chat](https://www.npmjs.com/package/deep-chat) " +
    `${weight?.["deep-chat"]?.version ?? ""}, from npm, lives only in \`bench/\` (its own package.json and lockfile). ` +
    "Its built-in OpenAI connection posts to a fixed OpenAI URL, so it runs with `connect: {url: <mock>/v1/chat/completions, stream: true}`: " +
    "its own fetch and SSE reader (@microsoft/fetch-event-source) and its own rendering; a `requestInterceptor` turns its request into an OpenAI chat request " +
    "with `Authorization: Client <token>` (the token minted by the same mint server, as the widget's), and a `responseInterceptor` turns each OpenAI chunk into its `{text}` event. " +
    "It runs with its defaults (each streamed event re-renders the whole answer's Markdown; its opt-in `stream: {partialRender: true}` is not used). " +
    "It is an inline chat, not a floating one: it has no launcher. " +
    "Ratios are deep-chat's figure divided by ours: above 1×, ours is lighter, faster or cheaper by that factor.",
);
p("To run it again: `cargo xtask bench` (about 18 minutes on this machine, 23 with `--before-dist`; `--quick` for a short try, about 3 minutes).");

// ------------------------------------------------------------------ summary

const r = weight?.ringside;
const d = weight?.["deep-chat"];
const st = browser?.startup;
const S = browser?.streaming;
const L = browser?.latency;
const T = browser?.trace;
const at = (regime, id, tokens) => S?.[id]?.[regime]?.find((x) => x.tokens === tokens);
const sizes = [...new Set((S?.ringside?.paced ?? []).map((x) => x.tokens))];
const biggest = sizes[sizes.length - 1];
const pacedOurs = (S?.ringside?.paced ?? []).filter((x) => x.finished);
const flatness = (runs) => {
  const ok = runs.filter((x) => x.finished && Number.isFinite(x.busy_ms_per_1k));
  return ok.length >= 2 ? ok[ok.length - 1].busy_ms_per_1k / ok[0].busy_ms_per_1k : NaN;
};

/**
 * The bare renderer beside the floor, for the summary: what the browser
 * charges a page just to show the same stream as plain text, against the
 * floor's mere reading of it (no target of its own; the context of ours).
 */
const bareRenderer = (regime, n) => {
  const pl = at(regime, "plain", n);
  const fl = at(regime, "floor", n);
  if (!pl || !fl || pl.skipped) return [];
  return [
    [
      `main-thread CPU per 1k tokens, ${regime}, ${fmt(n)}-token answer: the bare renderer / the floor (ms)`,
      "reference",
      `${fmt(pl.cpu_ms_per_1k / fl.cpu_ms_per_1k, 2)}× (${perK(pl.cpu_ms_per_1k)} / ${perK(fl.cpu_ms_per_1k)})`,
      "–",
      "",
      "",
    ],
  ];
};

p("## Summary: our targets");
p(
  table(
    ["figure", "target", "Ringside Chat", "", "deep-chat", "deep-chat / ours"],
    [
      ["brotli bytes before the launcher is visible", "≤ 4 KB", kb(r?.before_launcher.brotli), meets(r?.before_launcher.brotli, 4096), "no launcher", "–"],
      ["brotli bytes before the first message can be sent", "≤ 60 KB (first stop 90 KB)", kb(r?.before_send.brotli), `${meets(r?.before_send.brotli, 60 * 1024)} (90 KB: ${meets(r?.before_send.brotli, 90 * 1024).replace(/^\S+ /, "")})`, kb(d?.before_send.brotli), ratio(d?.before_send.brotli, r?.before_send.brotli)],
      ...["paced", "flooded"].flatMap((regime) =>
        sizes.map((n) => {
          const ours = at(regime, "ringside", n);
          const fl = at(regime, "floor", n);
          const peer = at(regime, "deep-chat", n);
          const peerBusy = peer?.unresponsive ? peer.busy_ms_per_1k_at_least : peer?.busy_ms_per_1k;
          const atLeast = peer?.unresponsive ? "≥ " : "";
          const both = finished(ours) && finished(fl);
          const vsFloor = both ? ours.busy_ms_per_1k / fl.busy_ms_per_1k : NaN;
          const cpuVsFloor = both ? ours.cpu_ms_per_1k / fl.cpu_ms_per_1k : NaN;
          const cutOff = (x) => (x?.failed_runs ? `; ${x.failed_runs} of ${x.runs} runs did not finish` : "");
          const shown = (key, r) =>
            both ? `${fmt(r, 2)}× (${perK(ours[key])} / ${perK(fl[key])}${cutOff(ours)}${cutOff(fl)})` : `not measured: ${finished(ours) ? "the floor" : "ours"} did not finish`;
          return [
            [
              `main-thread busy (wall) per 1k tokens, ${regime}, ${fmt(n)}-token answer: ours / the floor (ms)`,
              "≤ 1.5× the floor",
              shown("busy_ms_per_1k", vsFloor),
              both ? meets(vsFloor, 1.5) : "❌ not met",
              !peer || peer.skipped ? "not run" : `${atLeast}${fmt(peerBusy)} ms`,
              peer && !peer.skipped ? atLeast + ratio(peerBusy, ours?.busy_ms_per_1k) : "–",
            ],
            [
              `main-thread CPU per 1k tokens, ${regime}, ${fmt(n)}-token answer: ours / the floor (ms)`,
              "≤ 1.5× the floor",
              shown("cpu_ms_per_1k", cpuVsFloor),
              both ? meets(cpuVsFloor, 1.5) : "❌ not met",
              !peer || peer.skipped || peer.unresponsive ? "–" : `${fmt(peer.cpu_ms_per_1k)} ms`,
              peer && !peer.skipped && !peer.unresponsive ? ratio(peer.cpu_ms_per_1k, ours?.cpu_ms_per_1k) : "–",
            ],
            ...bareRenderer(regime, n),
          ];
        }),
      ).flat(),
      ["per-1k cost flat from the smallest to the largest answer (paced)", "flat", `${fmt(flatness(pacedOurs), 2)}× from ${fmt(sizes[0])} to ${fmt(biggest)} tokens`, Number.isFinite(flatness(pacedOurs)) ? (flatness(pacedOurs) <= 1.25 ? "✅ flat (within 25 %)" : "❌ grows") : "–", "", ""],
      ["added latency, chunk arrival → painted, p99", "≤ 50 ms", `${fmt(L?.ringside?.latency_to_paint_ms?.p99, 1)} ms (p50 ${fmt(L?.ringside?.latency_to_paint_ms?.p50, 1)})`, meets(L?.ringside?.latency_to_paint_ms?.p99, 50), `${fmt(L?.["deep-chat"]?.latency_to_paint_ms?.p99, 1)} ms`, ratio(L?.["deep-chat"]?.latency_to_paint_ms?.p99, L?.ringside?.latency_to_paint_ms?.p99)],
    ],
  ),
);

// ------------------------------------------------------------------- weight

p("## 1. Weight");
if (weight) {
  p(
    table(
      ["file", "what it is", "raw", "gzip -9", "brotli -q 11"],
      [
        ...r.files.map((f) => [`\`${f.name}\``, f.role, fmt(f.raw), fmt(f.gzip), fmt(f.brotli)]),
        ...d.files.map((f) => [`\`${f.name}\` (peer)`, f.role, fmt(f.raw), fmt(f.gzip), fmt(f.brotli)]),
      ],
    ),
  );
  p(
    table(
      ["total", "target (brotli)", "Ringside Chat raw / gzip / brotli", "deep-chat raw / gzip / brotli", "deep-chat / ours (brotli)"],
      [
        ["before the launcher is visible (the loader alone paints it)", "≤ 4 KB", `${fmt(r.before_launcher.raw)} / ${fmt(r.before_launcher.gzip)} / **${fmt(r.before_launcher.brotli)}** (${kb(r.before_launcher.brotli)}) ${meets(r.before_launcher.brotli, 4096)}`, "no launcher", "–"],
        ["before the first message can be sent (loader + glue + wasm)", "≤ 60 KB; 90 KB first stop", `${fmt(r.before_send.raw)} / ${fmt(r.before_send.gzip)} / **${fmt(r.before_send.brotli)}** (${kb(r.before_send.brotli)}) ${meets(r.before_send.brotli, 60 * 1024)}`, `${fmt(d.before_send.raw)} / ${fmt(d.before_send.gzip)} / **${fmt(d.before_send.brotli)}** (${kb(d.before_send.brotli)})`, ratio(d.before_send.brotli, r.before_send.brotli)],
        ...(r.before_answer
          ? [["before its answer is rendered (+ the answers chunk, fetched when the panel opens)", "–", `${fmt(r.before_answer.raw)} / ${fmt(r.before_answer.gzip)} / **${fmt(r.before_answer.brotli)}** (${kb(r.before_answer.brotli)})`, `${fmt(d.before_answer?.raw ?? d.before_send.raw)} / ${fmt(d.before_answer?.gzip ?? d.before_send.gzip)} / **${fmt(d.before_answer?.brotli ?? d.before_send.brotli)}**`, ratio(d.before_answer?.brotli ?? d.before_send.brotli, r.before_answer.brotli)]]
          : []),
      ],
    ),
  );
  p(
    "*Method.* The files of `dist/` after `cargo xtask build` (trunk `--release`, profile `wasm-release`; then wasm-split cuts the answers chunk out of the linked wasm, the exports no page calls are dropped, `wasm-opt -Oz --converge --low-memory-unused` runs on both wasm files, and the loader and glue are minified by esbuild: `xtask/src/slim.rs`), " +
      "compressed here with Node's zlib: gzip level 9 and brotli quality 11 (KB = 1,024 bytes). The widget's CSS is compiled into the wasm; `dist/demo.css` belongs to the demo page and is not shipped. " +
      "deep-chat's figure is its one-file bundle for a script tag, `dist/deepChat.bundle.js`; it also asks Google Fonts for a stylesheet and the Inter font at start-up, not counted here (offline, that request fails at once). " +
      "*Command:* `cargo xtask build && node bench/weight.mjs --dist dist --out target/bench/weight.json`.",
  );
}

// ------------------------------------------------------------------ startup

p("## 2. Start-up");
if (st) {
  const row = (label, ours, peer) => [label, fmt(ours?.median, 1), fmt(ours?.p90, 1), peer ? fmt(peer.median, 1) : "–", peer ? fmt(peer.p90, 1) : "–", peer ? ratio(peer.median, ours?.median) : "–"];
  p(
    table(
      ["ms, cold load, cache disabled", "ours median", "ours p90", "deep-chat median", "deep-chat p90", "deep-chat / ours (median)"],
      [
        row("navigation start → launcher visible", st.ringside?.launcher_visible_ms, null),
        row("first click → input ready, clicked the frame the launcher appears (widget not loaded yet)", st.ringside?.click_to_input_ready_at_once_ms, null),
        row("first click → input ready, clicked once the page is quiet (widget loaded on idle)", st.ringside?.click_to_input_ready_settled_ms, null),
        row("navigation start → input ready, inline chat (no launcher: ours `data-mode=inline`, deep-chat as it is)", st.ringside?.inline_input_ready_ms, st["deep-chat"]?.inline_input_ready_ms),
      ],
    ),
  );
  p(
    `*Method.* ${st.ringside?.click_to_input_ready_at_once_ms?.n ?? "–"} cold loads per row (the launcher row pools the loads of both click rows; each load in a new browser context, with \`Network.setCacheDisabled\`), of a host page served by the mint server with the widget's files on a second loopback origin, a static "CDN" ` +
      "that serves them brotli-compressed (quality 11) with CORS, as a real embed loads them. Times are `performance.now()` in the page, from navigation start. " +
      "\"Visible\" is the animation frame in which the launcher (or input) is first laid out with a size, found by a requestAnimationFrame poll from the first frame; it is painted at the end of that frame. " +
      "\"Input ready\" is the moment the message box is focused and enabled (a `focusin` listener on every shadow root, and the same poll); for the inline rows, enabled and laid out. " +
      "Loopback has no network delay, so these are the browser's own costs: fetching, compiling and instantiating the wasm, mounting, painting. " +
      "The launcher rows are ours alone: deep-chat has none. " +
      "*Command:* `node bench/browser.mjs --only startup …` (see `cargo xtask bench` for the arguments).",
  );
}

// ---------------------------------------------------------------- streaming

p("## 3. Streaming cost");
if (S) {
  const cell = (x, key, digits = 0) => (x?.skipped ? "not run" : x?.unresponsive ? "–" : fmt(x?.[key], digits));
  const longFrames = (x) => (x.long_frames === undefined ? "–" : `${fmt(x.long_frames)} (${fmt(x.long_frames_ms)})`);
  const regimeTable = (regime) => {
    const rows = [];
    for (const n of sizes) {
      for (const [id, label] of [
        ["ringside", "Ringside Chat"],
        ["deep-chat", "deep-chat"],
      ]) {
        const x = at(regime, id, n);
        if (!x) continue;
        const ours = at(regime, "ringside", n);
        rows.push([
          fmt(n),
          label +
            (x.skipped
              ? ` (not run: ${x.skipped})`
              : x.unresponsive
                ? ` (unresponsive past its ${x.limit_s} s limit, closed: a lower bound)`
              : x.finished === false
                ? ` (cut off after ${x.limit_s} s, ${fmt(100 * x.painted_fraction, 0)} % painted)`
                : x.over_limit
                  ? ` (past its ${x.limit_s} s limit: its page was busy until it finished)`
                  : ""),
          x.unresponsive ? `≥ ${fmt(x.busy_ms_per_1k_at_least)}` : cell(x, "busy_ms_per_1k"),
          cell(x, "cpu_ms_per_1k"),
          cell(x, "process_cpu_ms_per_1k"),
          cell(x, "script_ms_per_1k"),
          cell(x, "layout_style_ms_per_1k"),
          x.skipped || x.unresponsive ? "–" : longFrames(x),
          cell(x, "longest_frame_ms"),
          cell(x, "last_byte_to_last_paint_ms"),
          x.skipped || x.unresponsive ? "–" : fmt(x.frames_per_content_read, x.frames_per_content_read < 10 ? 2 : 0),
          id === "ringside" ? "" : x.unresponsive ? `≥ ${ratio(x.busy_ms_per_1k_at_least, ours?.busy_ms_per_1k)}` : ratio(x.busy_ms_per_1k, ours?.busy_ms_per_1k),
        ]);
      }
    }
    // The two reference pages (a run of each beside ours, same sizes).
    for (const [id, name, short] of [
      ["floor", "bare reader (the floor: fetch + read, no parsing, no DOM)", "floor"],
      ["plain", "bare renderer (plain text: decoded with JSON.parse in a worker, appended to a text node once per frame)", "bare renderer"],
    ]) {
      for (const x of S[id]?.[regime] ?? []) {
        if (x.skipped) continue;
        const ours = at(regime, "ringside", x.tokens);
        rows.push([fmt(x.tokens), name, perK(x.busy_ms_per_1k), perK(x.cpu_ms_per_1k), perK(x.process_cpu_ms_per_1k), perK(x.script_ms_per_1k), perK(x.layout_style_ms_per_1k), longFrames(x), fmt(x.longest_frame_ms), fmt(x.last_byte_to_last_paint_ms), fmt(x.frames_per_content_read, x.frames_per_content_read < 10 ? 2 : 0), ours ? `ours / ${short}: busy ${ratio(ours.busy_ms_per_1k, x.busy_ms_per_1k)}, CPU ${ratio(ours.cpu_ms_per_1k, x.cpu_ms_per_1k)}` : ""]);
      }
    }
    return table(
      ["tokens", "widget", "main-thread busy ms per 1k tokens", "main-thread CPU ms per 1k", "renderer CPU ms per 1k (all its threads)", "busy: of which script", "of which layout + style", "long frames (≥ 50 ms): how many (ms in all)", "longest frame ms", "last byte → last token painted ms", "SSE frames per read", "busy: deep-chat / ours"],
      rows,
    );
  };
  p(`### Paced: one SSE frame per read, the mock scripted with \`token_delay_ms: ${browser.paced_token_delay_ms}\``);
  p(regimeTable("paced"));
  const pacedSpeed = at("paced", "ringside", sizes[0]);
  p(
    `Per-1k cost of ours, from ${fmt(sizes[0])} to ${fmt(biggest)} tokens: ${fmt(flatness(pacedOurs), 2)}× (1.00× is perfectly flat). ` +
      (pacedSpeed ? `The mock's pacing came out at ${fmt(pacedSpeed.stream_ms / pacedSpeed.tokens, 1)} ms a token (timer ticks add to the scripted delay), so a paced answer of 1k tokens spans about ${fmt(pacedSpeed.stream_ms / pacedSpeed.tokens * 60, 0)} frames at 60 Hz (ours paints in about every second one: see the trace below).` : ""),
  );
  p("### Flooded: the mock scripted with `token_delay_ms: 0` (as fast as it can send)");
  p(regimeTable("flooded"));
  p(`Per-1k cost of ours, from ${fmt(sizes[0])} to ${fmt(biggest)} tokens: ${fmt(flatness(S.ringside?.flooded ?? []), 2)}× (fixed costs per answer dominate the smallest one).`);
  {
    const first = at("paced", "ringside", sizes[0]);
    const last = at("paced", "ringside", biggest);
    const fl = S.floor?.paced?.[0];
    const peerRuns = (S["deep-chat"]?.paced ?? []).filter((x) => !x.skipped && x.finished);
    const peerFirst = peerRuns[0];
    const peerLast = peerRuns[peerRuns.length - 1];
    const rest = (x) => x.busy_ms_per_1k - x.script_ms_per_1k - x.layout_style_ms_per_1k;
    const grows = (a, b) => (b / a <= 1.25 ? "flat" : `× ${(b / a).toFixed(1)}`);
    if (first && last) {
      p(
        "**Reading the paced table.** " +
          `Our script time per 1k tokens goes ${fmt(first.script_ms_per_1k)} → ${fmt(last.script_ms_per_1k)} ms from ${fmt(sizes[0])} to ${fmt(biggest)} tokens (${grows(first.script_ms_per_1k, last.script_ms_per_1k)}); ` +
          `layout + style ${fmt(first.layout_style_ms_per_1k)} → ${fmt(last.layout_style_ms_per_1k)} ms (${grows(first.layout_style_ms_per_1k, last.layout_style_ms_per_1k)}); ` +
          `the rest of the busy time (paint, compositing, the delivery of each read) ${fmt(rest(first))} → ${fmt(rest(last))} ms (${grows(rest(first), rest(last))}). ` +
          `A paced answer spans about ${fmt((first.stream_ms / first.tokens) * 60, 0)} frames at 60 Hz per 1k tokens, and ours paints in about every second one, so what each frame costs the browser (laying out and painting an answer that grows) weighs more than the script. ` +
          (fl ? `The floor (a page that only reads the same paced stream) costs ${fmt(fl.busy_ms_per_1k)} ms per 1k tokens here at ${fmt(fl.tokens)} tokens; ours adds ${fmt(first.busy_ms_per_1k - fl.busy_ms_per_1k)} ms per 1k above it at ${fmt(sizes[0])} tokens (target: at most 1.5× the floor). ` : "") +
          (peerFirst && peerLast && peerLast !== peerFirst
            ? `deep-chat re-renders the whole answer's Markdown for every event: ${fmt(peerFirst.busy_ms_per_1k)} → ${fmt(peerLast.busy_ms_per_1k)} ms per 1k from ${fmt(peerFirst.tokens)} to ${fmt(peerLast.tokens)} tokens, ${fmt(peerLast.long_frames)} frames of 50 ms or more (${fmt(peerLast.long_frames_ms)} ms in all) and ${fmt(peerLast.last_byte_to_last_paint_ms / 1000, 1)} s behind the stream at ${fmt(peerLast.tokens)}.`
            : ""),
      );
    }
  }
  p(
    "*Method.* Ours, the floor and the bare renderer answer each size in turns (ours, the floor, the bare renderer, ours, …), 5 times flooded, 5 times paced up to 1,000 tokens (3 times until 2026-12-05), twice at 8,000 and once at 32,000 (a paced answer that long averages itself over 2 minutes), and each of their figures is the median of its runs (until 2026-12-04, one run each); deep-chat answers once per size. For each answer, a new browser context loads the host page, opens the widget as a user does (ours: a click on the launcher, which also fetches the token; deep-chat: the token fetched by the page), " +
      "scripts the mock (`POST /__mock/script {token_count, token_delay_ms, first_token_delay_ms: 0}`; answers are the mock's deterministic paragraphs of words) and types the question; then the measurement starts, and Enter is pressed through the browser's input (the reference pages ask on Enter too), so no script of the harness runs in the page while it is measured (until 2026-12-04 the harness typed inside the measured window, with Playwright locators whose queries and checks ran in the page and counted as the widget's: about 10 to 15 ms per question). " +
      "The streaming, latency and trace runs drive a Chromium of their own over the DevTools protocol with only the Page, Performance, Input and Runtime domains (`bench/lib/rawpage.mjs`), as a visitor's browser runs with no DevTools. " +
      "(Until 2026-12-05 Playwright drove them, and it turns on the Network domain in every page and worker; while it is on, the network service reports each read of a response to the renderer, one IPC per read that a browser without DevTools does not send. For one token per read that was a task per token on the page's main thread: in traces of a paced 1k answer, 1,000 tasks and about 30 ms per 1k for ours, whose worker's loader forwards each to the page, and 60 ms for the floor, which reads on the main thread; in untraced runs the floor's paced CPU per 1k came out at 270 to 520 ms with Playwright and 140 to 250 without, minutes apart. Every figure before that date carries it, and the floor's the most, so the ratios to the floor from then are too kind: the widget of 688274b measured 1.57× the floor at paced 1k and 1.49× at flooded 300 with Playwright; the same widget (the build before, below) measures 2.44× and 3.10× without.) " +
      "*Main-thread busy* is the growth of CDP `Performance.getMetrics` `TaskDuration` (every task of the renderer's main thread: script, style, layout, paint, the network's delivery of each read) from just before the question is sent " +
      "to 0.5 s after the last byte and the last change to the answer, divided by the thousands of tokens. Nothing is subtracted: in these runs nothing of the harness makes the page render a frame, so a page renders the frames it asks for and no others (the floor none); the harness's own polls cost the page 2 to 4 ms a second. " +
      "(Until 2026-12-05, before stop 35 of issue #15, the probe in a worker that reads a stream, ours' and the bare renderer's, sent the page a copy of every read's bytes when the stream ended, inside the measured window; the floor reads on the page's own thread and never paid it. For a flooded answer of 32k tokens, megabytes of SSE, that message cost the page about 11 ms (traced: ours at about 2.0 ms per 1k came out at 1.5 once it was gone); for 300 tokens, a fraction of a millisecond. The worker now sends only each read's time and size in the window, and the bytes when the run is collected, after it was measured.) " +
      "(Until 2026-12-05 the probe also marked every frame a page rendered with a message to itself, a task of about 50 µs per frame that only pages which render frames paid, ours and the bare renderer, about 6 ms per 1k paced tokens for ours; only the latency runs, which use the marks, make them now.) " +
      "(Until 2026-12-04 the probe ran a requestAnimationFrame loop in these runs, so every page, the floor too, rendered a frame every 16.7 ms; that loop's cost, measured idle for 0.7 s, was subtracted over the answer's span. While a page streams, the loop's frames cost less than idle, by an amount that changed from run to run, so the floor's paced figures swung by 2× and more between runs: its paced 32k answer came out at 5 ms per 1k in one. The figures before that date are not comparable with these.) " +
      "*script* and *layout + style* are the `ScriptDuration` and `LayoutDuration` + `RecalcStyleDuration` parts of the busy time. " +
      "Busy time is wall time: on a machine of 2 cores it also counts the time the main thread waits for a core while other threads run (the page's worker, the compositor and raster threads, the GPU process, the mock, the harness), and on a virtual machine the time the host takes the core away. " +
      "*Main-thread CPU* is the growth of `ThreadTime` (the CPU time of the renderer's main thread), the work itself, not the wait for a core. " +
      "*Renderer CPU* is the growth of `ProcessTime` (every thread of the page's renderer: the main thread, the widget's worker, the compositor and raster threads; not the GPU process): what the page costs the device in all. " +
      "*Long frames* are the animation frames of 50 ms or more that ended after the question (Chromium's Long Animation Frames API: a frame's tasks, rendering and the script in them, from the first task's start to the paint), with their total duration; a frame of 100 ms drops five frames at 60 Hz. " +
      "*Last byte → last token painted*: from the read that brought `[DONE]` to the last change to the answer's text (ours makes its changes in an animation frame's callbacks, so that frame paints them; a change in another task is painted by the next frame, up to 16.7 ms later). " +
      "A run has a limit (about the mock's sending time plus 30 s); a page still too busy to answer 5 s past it is closed, and its busy time per 1k tokens given as a lower bound (the time since the question, over the tokens). " +
      "A widget that finishes a shorter answer more than 5 s behind the stream, or past its limit, is not given the longer answers of that regime. " +
      "The bare reader row is the floor: the same stream fetched and read to the end by a page that does nothing else. " +
      "The bare renderer row is the least a page can do to show the answer as it streams: a worker (from a blob: URL, as ours) fetches and reads the stream, splits the SSE frames and `JSON.parse`s each, and hands the text over at most every 16 ms; the page appends it to a text node (a new block every 2,000 characters, so a frame's layout does not grow with the answer) in a panel the size of ours and keeps the end in view: no Markdown, no other DOM. Its distance from the floor is the browser's price of showing streamed text, which no widget avoids. " +
      "*Command:* `node bench/browser.mjs --only streaming …`.",
  );
}

// `cargo xtask bench --before-dist DIR`: another build of ours, measured in
// turns with this one ("ringside-before"), beside the same floor.
if (S?.["ringside-before"]) {
  const vsFloor = (ours, fl, key) =>
    ours?.[key] === undefined || fl?.[key] === undefined ? "–" : finished(ours) && finished(fl) ? `${perK(ours[key])} (**${fmt(ours[key] / fl[key], 2)}×**)` : "did not finish";
  const change = (before, after, key) =>
    finished(before) && finished(after) && before?.[key] ? `${after[key] >= before[key] ? "+" : "−"}${fmt(Math.abs(100 * (after[key] / before[key] - 1)))} %` : "–";
  p("### Before and after");
  const rows = [];
  for (const regime of ["paced", "flooded"]) {
    for (const n of sizes) {
      const [before, after, fl] = ["ringside-before", "ringside", "floor"].map((id) => at(regime, id, n));
      const script = (r) => (finished(r) ? perK(r.script_ms_per_1k) : "–");
      rows.push([
        regime,
        fmt(n),
        finished(fl) ? perK(fl.cpu_ms_per_1k) : "–",
        vsFloor(before, fl, "cpu_ms_per_1k"),
        vsFloor(after, fl, "cpu_ms_per_1k"),
        change(before, after, "cpu_ms_per_1k"),
        vsFloor(before, fl, "busy_ms_per_1k"),
        vsFloor(after, fl, "busy_ms_per_1k"),
        `${script(before)} → ${script(after)}`,
      ]);
    }
  }
  const lat = (r) => (r ? `${fmt(r.p50, 1)} / ${fmt(r.p99, 1)}` : "–");
  rows.push(["latency, chunk → painted", "p50 / p99 ms", "", lat(L?.["ringside-before"]?.latency_to_paint_ms), lat(L?.ringside?.latency_to_paint_ms), "", "", "", ""]);
  p(
    table(
      ["regime", "tokens", "the floor: main-thread CPU ms per 1k", "ours before: CPU (× the floor)", "ours after", "CPU change", "busy before (× the floor)", "busy after", "ours: script ms per 1k, before → after"],
      rows,
    ),
  );
  p(
    "*Method.* Before is the `dist/` given to `cargo xtask bench --before-dist` (`" + (browser.before_dist ?? "another build") + "`), measured in the same runs as this build: " +
      "each size is answered in turns (ours, ours before, the floor, the bare renderer, ours, …) and each figure is the median of its runs, so both builds meet the same moments of the machine and are divided by the same floor. " +
      "(Until 2026-12-05 the build before was measured in a second run, about 10 minutes after this one, beside a floor of its own. The floor's own paced figures differed by up to 60 % between the two runs, which moved the ratios more than most changes do.) " +
      "*Command:* `cargo xtask bench --before-dist DIR`.",
  );
}

// ------------------------------------------------------------------ latency

// Older runs kept only ours, not beside the floor.
const traces = T && (T.tasks_ms !== undefined ? { ringside: T } : T);
if (traces?.ringside) {
  const ours = traces.ringside;
  const fl = traces.floor;
  const cols = fl ? ["event (renderer main thread)", "ours ms", "the floor ms", "ours: how many", "the floor: how many"] : ["event (renderer main thread)", "ms"];
  const row = (label, key) => {
    const r = [label, fmt(ours.by_event_ms[key])];
    if (fl) r.push(fmt(fl.by_event_ms[key]), fmt(ours.counts?.[key]), fmt(fl.counts?.[key]));
    return r;
  };
  const total = ["all tasks", fmt(ours.tasks_ms)];
  const frames = ["frames committed while it streamed", fmt(ours.frames)];
  if (fl) {
    total.push(fmt(fl.tasks_ms), "", "");
    frames.push(fmt(fl.frames), "", "");
  }
  p("### Where a paced 1k-token answer's main-thread time goes (Chrome trace)");
  p(table(cols, [total, ...Object.keys(ours.by_event_ms).map((k) => row(k, k)), frames]));
  p(
    "*Method.* One paced answer of " + fmt(ours.tokens) + " tokens through our widget" + (fl ? " and the same stream read by the floor's page" : "") + ", the pointer resting away from it, with Chrome tracing (`devtools.timeline`) on from the question to 0.5 s after the last change; " +
      "complete events of the renderer's main thread summed by name (script: `FunctionCall`, `EvaluateScript`, `TimerFire`, `FireAnimationFrame`, `EventDispatch`, `RunMicrotasks`; style: `UpdateLayoutTree`; then `Layout`, `PrePaint`, `Paint`, `Layerize`, `Commit`, `HitTest`). " +
      "Events nest (a timer's script includes what it calls), so rows overlap and do not add up to the total; tracing itself makes every figure larger than in the untraced runs above. *Command:* `node bench/browser.mjs --only trace …`.",
  );
}

p("## 4. Added latency");
if (L) {
  const row = (label, key) => {
    const ours = L.ringside?.[key];
    const peer = L["deep-chat"]?.[key];
    return [label, fmt(ours?.p50, 1), fmt(ours?.p99, 1), fmt(peer?.p50, 1), fmt(peer?.p99, 1), ratio(peer?.p99, ours?.p99)];
  };
  p(
    table(
      ["ms, per read of a paced stream", "ours p50", "ours p99", "deep-chat p50", "deep-chat p99", "deep-chat / ours (p99)"],
      [row("chunk arrives at the page → its text is in the DOM", "latency_to_dom_ms"), row("chunk arrives at the page → the frame that paints it (target p99 ≤ 50 ms)", "latency_to_paint_ms")],
    ),
  );
  p(
    `*Method.* One paced answer of ${fmt(L.ringside?.tokens)} tokens (\`token_delay_ms: ${browser.paced_token_delay_ms}\`) per widget, ${fmt(L.ringside?.latency_to_paint_ms?.n)} reads for ours. ` +
      "An init script wraps `ReadableStreamDefaultReader.prototype.read`, so each read of the response body (the widget's own reader and deep-chat's alike) is timestamped when it resolves, before its consumer sees it, and its bytes kept. " +
      "A MutationObserver on the widget's shadow root notes, at each change inside the answer, the time and the answer's count of non-space characters. " +
      "In Node, the reads' SSE frames are parsed into the answer's text; a read's text is in the DOM at the first change after which the DOM holds as many non-space characters as the stream had delivered up to and including that read. " +
      "*Painted*: a change made during an animation frame's callbacks is painted by that frame (the probe wraps `requestAnimationFrame` and marks the frame until a task posted from it runs, which is after the paint); " +
      "a change made in any other task is painted by the next frame, taken as the time that frame's callbacks start. " +
      "Ours writes text only in animation frames (once per frame, by design), so its two rows are the same; deep-chat writes in each read's task and is painted a frame later. " +
      "*Command:* `node bench/browser.mjs --only latency …`.",
  );
}

// ------------------------------------------------------------------- parser

p("## 5. SSE parsing");
{
  const w = browser?.parser_wasm;
  const n = parserNative;
  const row = (label, key) => [label, fmt(n[key]?.mb_per_s), fmt(w?.[key]?.mb_per_s), n[key] && w?.[key] ? `${(n[key].mb_per_s / w[key].mb_per_s).toFixed(1)}×` : "–"];
  p(
    table(
      ["MB/s of `ringside_wire::sse::SseParser`", "native (criterion)", "wasm in Chromium", "native / wasm"],
      [row("realistic chat stream, one SSE frame per read (paced)", "frame_reads"), row("realistic chat stream, 16 KiB reads (flooded)", "16k_reads"), row("worst case: 1-byte reads", "1_byte_reads")],
    ),
  );
  p(
    `*Method.* The stream is ${fmt(n.frame_reads?.bytes ?? w?.bytes)} bytes: a 4,000-token answer in the mock's exact frame layout (a role chunk, one \`chat.completion.chunk\` per word, a finish chunk, \`[DONE]\`), made by \`bench/sse-wasm/src/stream.rs\`, which both benches share. ` +
      "Each iteration feeds it to a new parser in the given reads and counts the events. MB = 10⁶ bytes. " +
      "*Native:* criterion (median of 100 samples; 1 s warm-up, 3 s measurement) in the `bench` profile: `cargo bench -p ringside-bench --bench sse`. " +
      "*Wasm:* the crate `bench/sse-wasm` built as the widget is (profile `wasm-release`, opt-level z, wasm-bindgen `--target web`, `wasm-opt -Oz`), loaded in a Chromium page; the page times `Bench.run` with `performance.now()` after a warm-up, over enough rounds to last 150 ms, and reports the median of 7. " +
      "*Command:* `node bench/browser.mjs --only parser --sse-wasm target/bench/sse-wasm …`.",
  );
}

// ------------------------------------------------------------------ servers

p("## 6. Servers");
if (mint) {
  const rows = ["warm", "known_no_reuse", "cold", "naive_warm", "naive_cold"]
    .filter((k) => mint[k])
    .map((k) => [k, fmt(mint[k].rps), fmt(mint[k].p50_ms, 2), fmt(mint[k].p99_ms, 2), fmt(mint[k].upstream_calls_per_request, 2), fmt(mint[k].errors)]);
  p(table(["mint scenario", "tokens/s", "p50 ms", "p99 ms", "upstream calls per request", "errors"], rows));
  p(
    "*warm*: one visitor whose token is reused (`--reuse-fraction 0.5`); *known_no_reuse*: a returning visitor per connection with reuse turned off (`--reuse-fraction 0`; the default is 0.5), one upstream call; *cold*: a new visitor every request; " +
      "*naive_warm*/*naive_cold*: the seed's naive path (an upsert and a mint upstream on every request). " +
      `Against the in-process mock on loopback, ${mint.concurrency} requests in flight, ${mint.seconds_per_scenario} s per scenario after a warm-up, ${mint.threads} runtime threads. ` +
      "*Command:* `cargo run --release -p ringside-bench --bin mint-tokens -- --seconds 3`.",
  );
}
if (streams) {
  p(
    table(
      ["mock", "value"],
      [
        ["concurrent streams opened", fmt(streams.concurrency)],
        ["streams complete and in order", fmt(streams.streams_ok)],
        ["errors (lost or reordered chunks)", `${fmt(streams.errors)} (${fmt(streams.lost_or_reordered)})`],
        ["peak streams open at once", fmt(streams.peak_open)],
        ["memory per open stream", `${fmt(streams.kib_per_open_stream, 1)} KiB`],
        ["mock RSS before / during / after", `${fmt(streams.rss_before_kib / 1024, 1)} / ${fmt(streams.rss_during_kib / 1024, 1)} / ${fmt(streams.rss_after_kib / 1024, 1)} MiB`],
        ["chunks per second", fmt(streams.chunks_per_s)],
        ["time (ideal)", `${fmt(streams.elapsed_s, 2)} s (${fmt(streams.ideal_s, 2)} s)`],
        ["mock CPU", `${fmt(streams.mock_cpu_s, 2)} s`],
      ],
    ),
  );
  p(
    `*Method.* The mock runs as its own process; the client mints one Client Token, opens ${fmt(streams.concurrency)} streaming completions over the ramp, each with its own deterministic answer of ${streams.min_tokens}–${streams.max_tokens} tokens ${streams.token_delay_ms} ms apart after a ${streams.first_token_delay_ms} ms first-token delay (so all are open at once), ` +
      "and checks every stream through the widget's `SseParser` and `StreamFrame::parse`: the role chunk, exactly the expected tokens in order, the finish chunk, `[DONE]`. Memory is the mock's `VmRSS`. " +
      "*Command:* `cargo run --release -p ringside-bench --bin mock-streams -- --concurrency 5000`.",
  );
}

// ---------------------------------------------------------------- caveats

p("## What these figures do not say");
p(
  [
    "- **No real network.** Everything runs on loopback: start-up shows the browser's own costs, not download time; the weight table is the network's side.",
    "- **No GPU, two shared cores.** Headless Chromium with `--disable-gpu` paints in software on the same two cores as the servers and other engineers' builds; paint-heavy figures (busy time, dropped frames) are higher than on a desktop, and noisy. The load average is above.",
    "- **One run per streaming size.** A 32k-token paced answer takes over two minutes, so each size runs once; the 1k figures carry each answer's fixed costs (opening the stream, the first paint of a new message).",
    "- **deep-chat's longer answers.** Where the peer fell more than 5 s behind a shorter answer (or was cut off), its longer answers were not run: they would have run for many minutes. Its opt-in `partialRender` mode, which renders only the current paragraph, was not measured.",
    "- **deep-chat's web font** (Google Fonts, Inter) cannot load offline; with it, its start-up would fetch more.",
  ].join("\n"),
);

writeFileSync(opts["out-md"], md.join("\n").replace(/\n{3,}/g, "\n\n"));
