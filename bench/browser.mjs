// The browser benchmarks of `cargo xtask bench` (never tests, never in CI):
// start-up, streaming cost, added latency and the SSE parser in wasm, in
// Debian's headless Chromium, for Ringside Chat and, side by side in the same
// browser session, deep-chat, an established OpenAI-streaming chat widget.
//
//   node bench/browser.mjs --bin-dir target/release --dist dist \
//     --sse-wasm target/bench/sse-wasm --out target/bench/browser.json
//
// Every figure's method is in BENCHMARKS.md (bench/report.mjs writes it).
import { chromium } from "playwright-core";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

import { chromiumFlags } from "../e2e/chromium.mjs";
import { launchRaw } from "./lib/rawpage.mjs";
import { startStack, MODEL } from "./lib/stack.mjs";

const here = import.meta.dirname;
const { values: opts } = parseArgs({
  options: {
    "bin-dir": { type: "string" },
    dist: { type: "string" },
    // Another build of ours (its dist/), measured in turns with this one
    // (streaming and latency) as "ringside-before": the before and after of
    // a change, at the same moments of the machine.
    "before-dist": { type: "string" },
    "sse-wasm": { type: "string" },
    out: { type: "string" },
    chromium: { type: "string", default: "/usr/bin/chromium" },
    runs: { type: "string", default: "10" },
    sizes: { type: "string", default: "300,1000,8000,32000" },
    "paced-delay-ms": { type: "string", default: "3" },
    "latency-tokens": { type: "string", default: "1000" },
    // The trace's answer: its pacing (the paced delay unless given), and a
    // file to keep the raw trace in, for a closer look.
    "trace-delay-ms": { type: "string" },
    "trace-tokens": { type: "string", default: "1000" },
    "trace-out": { type: "string" },
    // Adds V8's sampling profiler to the trace (ProfileChunk events): where script time goes, by function.
    "trace-cpu": { type: "boolean", default: false },
    // More trace categories, comma-separated (e.g. blink,cc: what a frame's untraced time is).
    "trace-categories": { type: "string", default: "" },
    // Give up on one streaming run after this many seconds more than the
    // mock needs to send it (a widget that falls behind is cut off and its
    // partial figures reported).
    "grace-s": { type: "string", default: "30" },
    only: { type: "string", default: "startup,streaming,latency,trace,parser" },
    widgets: { type: "string", default: "ringside,deep-chat,floor,plain" },
    regimes: { type: "string", default: "paced,flooded" },
  },
});
for (const required of ["bin-dir", "dist", "out"]) {
  if (!opts[required]) throw new Error(`--${required} is required`);
}
const RUNS = Number(opts.runs);
const SIZES = opts.sizes.split(",").map(Number);
const PACED_DELAY = Number(opts["paced-delay-ms"]);
const ONLY = new Set(opts.only.split(","));
const WIDGETS = new Set(opts.widgets.split(","));
if (opts["before-dist"]) WIDGETS.add("ringside-before");
const FRAME_MS = 1000 / 60;
/** Falling this far behind a stream ends a widget's runs of that regime. */
const BEHIND_MS = 5000;
const PROBE = readFileSync(path.join(here, "lib/probe.js"), "utf8");
const log = (...args) => console.error("[bench]", ...args);

const deepChatDir = path.join(here, "node_modules/deep-chat/dist");
const cdnFiles = {
  "ringside-chat.js": path.join(opts.dist, "ringside-chat.js"),
  "ringside-chat-widget.js": path.join(opts.dist, "ringside-chat-widget.js"),
  "ringside-chat-widget_bg.wasm": path.join(opts.dist, "ringside-chat-widget_bg.wasm"),
  "deepChat.bundle.js": path.join(deepChatDir, "deepChat.bundle.js"),
};
// The answers chunk (its name carries its hash), fetched when the panel
// opens (a build from before it was split out has none).
const chunks = (dist) => readdirSync(dist).filter((n) => /^ringside-chat-(answers|markdown)-[0-9a-f]+\.wasm$/.test(n));
for (const name of chunks(opts.dist)) cdnFiles[name] = path.join(opts.dist, name);
// The build before, under `before/` (the loader loads the rest from beside itself).
if (opts["before-dist"]) {
  for (const name of ["ringside-chat.js", "ringside-chat-widget.js", "ringside-chat-widget_bg.wasm", ...chunks(opts["before-dist"])]) {
    cdnFiles[`before/${name}`] = path.join(opts["before-dist"], name);
  }
}
if (opts["sse-wasm"]) {
  cdnFiles["sse/ringside_bench_sse.js"] = path.join(opts["sse-wasm"], "ringside_bench_sse.js");
  cdnFiles["sse/ringside_bench_sse_bg.wasm"] = path.join(opts["sse-wasm"], "ringside_bench_sse_bg.wasm");
}

const stack = await startStack({ binDir: opts["bin-dir"], cdnFiles });
const browser = await chromium.launch({
  executablePath: opts.chromium,
  headless: true,
  args: chromiumFlags(),
});
// The streaming runs' browser: driven without the Network domain, which
// Playwright turns on and which costs a page a task per read (lib/rawpage.mjs).
const rawBrowser = await launchRaw(opts.chromium, chromiumFlags());
const results = {
  // When and at which commit these runs were made: the report, which may be
  // written again later from the same files, says so.
  measured_at: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
  commit: (() => {
    try {
      return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: here, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      return null;
    }
  })(),
  chromium: browser.version(),
  node: process.version,
  paced_token_delay_ms: PACED_DELAY,
};

// ---------------------------------------------------------------- the widgets

/** The page of each widget, and how a user works it. */
/** Ours, its loader served from `base` under the CDN ("": this build). */
const ours = (name, base) => ({
  name,
  probe: {
    host: "[data-ringside-chat]",
    launcher: ".rsc-launcher",
    input: ".rsc-composer__input",
    answer: "article.rsc-msg--assistant .rsc-msg__body",
  },
  page({ inline = false } = {}) {
    const attrs = inline ? ` data-mode="inline" data-container="#chat"` : "";
    return stack.page(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host</title>
<style>#chat{width:400px;height:600px}</style></head>
<body><main><h1>A host page</h1><p>Content.</p>${inline ? `<div id="chat"></div>` : ""}</main>
<script src="${stack.cdnUrl}${base}/ringside-chat.js" data-token-endpoint="/api/chat-token" data-title="Help"${attrs} async></script></body></html>`);
  },
  /** Opens the panel as a user does and waits for the input. */
  async prepare(page) {
    await page.locator(".rsc-launcher").click();
    await page.waitForFunction(() => __bench.marks.ready > 0, null, { polling: 50, timeout: 30_000 });
    // The token the click asked for (prefetch on hover) is there before we measure.
    await page.waitForLoadState("networkidle");
  },
  async type(page, text) {
    await page.locator(".rsc-composer__input").fill(text);
  },
  send: pressEnter,
});

const widgets = {
  ringside: ours("Ringside Chat", ""),
  ...(opts["before-dist"] ? { "ringside-before": ours("Ringside Chat, the build before", "/before") } : {}),
  "deep-chat": {
    name: "deep-chat 2.4.2",
    probe: {
      host: "deep-chat",
      input: "#text-input",
      answer: ".ai-message-text",
    },
    // deep-chat speaks to any server with `connect` (its own fetch and SSE
    // reader, stream: true); the interceptors turn its request into an OpenAI
    // chat request and each OpenAI chunk into its `{text}` event. The Client
    // Token comes from the mint, like the widget's, and goes in the
    // Authorization header.
    page() {
      return stack.page(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host</title></head>
<body><main><h1>A host page</h1><p>Content.</p>
<deep-chat id="chat" style="width:400px;height:600px"></deep-chat></main>
<script type="module">
import "${stack.cdnUrl}/deepChat.bundle.js";
const chat = document.getElementById("chat");
const token = fetch("/api/chat-token", { method: "POST", credentials: "include" }).then((r) => r.json());
token.then(() => { window.__tokenReady = true; });
chat.connect = { url: "${stack.mockUrl}/v1/chat/completions", method: "POST", stream: true };
chat.requestInterceptor = async (details) => {
  details.headers = { ...details.headers, authorization: "Client " + (await token).token };
  details.body = {
    model: "${MODEL}",
    stream: true,
    messages: details.body.messages.map((m) => ({ role: m.role === "ai" ? "assistant" : m.role, content: m.text })),
  };
  return details;
};
chat.responseInterceptor = (chunk) => ({ text: chunk.choices?.[0]?.delta?.content ?? "" });
</script></body></html>`);
    },
    async prepare(page) {
      await page.locator("deep-chat #text-input").waitFor({ timeout: 30_000 });
      await page.waitForFunction(() => window.__tokenReady, null, { polling: 50, timeout: 30_000 });
    },
    async type(page, text) {
      await page.locator("deep-chat #text-input").fill(text);
    },
    send: pressEnter,
  },
};

/**
 * Sends the question typed (see each widget's `type`): Enter, pressed through
 * the browser's input, so no script of the harness runs in the page while
 * its cost is measured (a locator's `press` queries the page and checks the
 * element first).
 */
async function pressEnter(page) {
  await page.keyboard.press("Enter");
}

/** The question the reference pages post: the body of an OpenAI chat request. */
const QUESTION_BODY = JSON.stringify({ model: MODEL, stream: true, messages: [{ role: "user", content: "How do I embed the widget?" }] });

/**
 * How a run works a reference page: it fetched its token as it loaded, and
 * Enter (`ASK_ON_ENTER`) posts the question, as a widget's does.
 */
const askedByPage = {
  async prepare(page) {
    await page.evaluate(() => token);
  },
  async type() {},
  send: pressEnter,
};

/** A reference page's script: Enter calls its `ask()`. */
const ASK_ON_ENTER = `addEventListener("keydown", (event) => event.key === "Enter" && window.ask());`;

/**
 * Not a widget: the floor. The page fetches the same stream and reads it to
 * the end with a bare ReadableStreamDefaultReader, and does nothing else: no
 * parsing, no DOM. What it costs is the browser's own price of receiving the
 * stream (plus the probe's frame loop), which no widget can go below.
 */
const floor = {
  name: "bare reader (floor)",
  paints: false,
  probe: { host: "#none", input: "#none", answer: "#none" },
  page() {
    return stack.page(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Floor</title></head>
<body><main><h1>A host page</h1><p>Content.</p></main><script>
const token = fetch("/api/chat-token", { method: "POST", credentials: "include" }).then((r) => r.json());
window.ask = async () => {
  const response = await fetch("${stack.mockUrl}/v1/chat/completions", {
    method: "POST",
    headers: { authorization: "Client " + (await token).token, "content-type": "application/json" },
    body: ${JSON.stringify(QUESTION_BODY)},
  });
  const reader = response.body.getReader();
  while (!(await reader.read()).done);
};
${ASK_ON_ENTER}
</script></body></html>`);
  },
  ...askedByPage,
};

/**
 * Not a widget either: the least a page can do to show the answer as it
 * streams. A worker (from a blob: URL, like ours) fetches and reads the same
 * stream, splits its SSE frames, `JSON.parse`s each and hands the text over
 * at most once per frame; the page appends it to a text node (a new block
 * every 2,000 characters) in a panel the size of ours and keeps the end in
 * view. No Markdown, no other DOM, nothing else. What it costs above the floor is the browser's price of
 * showing streamed text: the second reference beside ours (issue #15).
 */
const plain = {
  name: "bare renderer (plain text, decoded in a worker)",
  probe: { host: "#panel", input: "#none", answer: ".answer" },
  page() {
    const worker = () => {
      onmessage = async ({ data: { url, authorization, body } }) => {
        const response = await fetch(url, { method: "POST", headers: { authorization, "content-type": "application/json" }, body });
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let rest = "";
        let text = "";
        let timer = 0;
        const flush = () => {
          timer = 0;
          if (text) postMessage(text);
          text = "";
        };
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          rest += decoder.decode(value, { stream: true });
          let end;
          while ((end = rest.indexOf("\n\n")) >= 0) {
            const data = rest.slice(6, end); // "data: …"
            rest = rest.slice(end + 2);
            if (data !== "[DONE]") text += JSON.parse(data).choices?.[0]?.delta?.content ?? "";
          }
          if (!timer) timer = setTimeout(flush, 16);
        }
        clearTimeout(timer);
        flush();
      };
    };
    return stack.page(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Plain</title></head>
<body><main><h1>A host page</h1><p>Content.</p></main>
<div id="panel" style="position:fixed;right:16px;bottom:16px;width:400px;height:600px"></div><script>
const token = fetch("/api/chat-token", { method: "POST", credentials: "include" }).then((r) => r.json());
const root = document.getElementById("panel").attachShadow({ mode: "open" });
const log = root.appendChild(document.createElement("div"));
log.style.cssText = "height:100%;overflow:auto;font:15px/1.5 system-ui,sans-serif";
const answer = log.appendChild(document.createElement("div"));
answer.className = "answer";
answer.style.cssText = "white-space:pre-wrap;overflow-wrap:anywhere;padding:8px 12px";
let shown = null;
const worker = new Worker(URL.createObjectURL(new Blob([${JSON.stringify(`(${worker})()`)}], { type: "text/javascript" })));
let pending = "";
worker.onmessage = ({ data }) => {
  if (!pending) requestAnimationFrame(() => {
    // A new block every 2,000 characters: the browser lays out the last
    // block as it grows, not the whole answer, so a frame costs the same at
    // any length.
    if (!shown || shown.length > 2000) shown = answer.appendChild(document.createElement("div")).appendChild(document.createTextNode(""));
    shown.appendData(pending);
    pending = "";
    log.scrollTop = log.scrollHeight;
  });
  pending += data;
};
window.ask = async () => worker.postMessage({
  url: "${stack.mockUrl}/v1/chat/completions",
  authorization: "Client " + (await token).token,
  body: ${JSON.stringify(QUESTION_BODY)},
});
${ASK_ON_ENTER}
</script></body></html>`);
  },
  ...askedByPage,
};

/** The probe's script, for `benchProbe(probe)` in a page before its own. */
const probeScript = (probe) => `${PROBE}\nbenchProbe(${JSON.stringify(probe)});`;

/**
 * A fresh context with a page with the probe, and CDP, in the browser that
 * has no Network domain on (lib/rawpage.mjs): what a streaming run measures
 * is what the page costs in a visitor's browser.
 */
function freshRawPage(probe) {
  return rawBrowser.newPage({ initScript: probeScript(probe), viewport: { width: 1280, height: 800 } });
}

/**
 * For the start-up runs (which do not stream): a fresh context (no cache,
 * no cookies, no storage) in Playwright's browser, and a page with the probe.
 */
async function freshPage(probe) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  await page.addInitScript({ content: probeScript(probe) });
  // deep-chat asks Google Fonts for a font: offline here, it fails at once.
  return { context, page };
}

/** The renderer main thread's busy time so far, in ms: all tasks, and the parts spent in script, layout and style. */
async function busyNow(cdp) {
  const { metrics } = await cdp.send("Performance.getMetrics");
  const get = (name) => metrics.find((m) => m.name === name).value * 1000;
  return {
    task: get("TaskDuration"),
    script: get("ScriptDuration"),
    layout: get("LayoutDuration") + get("RecalcStyleDuration"),
    // CPU time, not wall time: of the main thread, and of the whole renderer
    // process (the main thread, workers, the compositor and raster threads).
    cpu: get("ThreadTime"),
    process: get("ProcessTime"),
  };
}
const minus = (a, b) => Object.fromEntries(Object.keys(a).map((k) => [k, a[k] - b[k]]));

// ---------------------------------------------------------------- statistics

const round = (x, digits = 1) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);
function quantile(values, q) {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (!sorted.length) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}
/** The middle value; of an even count, the mean of the middle two. */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
const summary = (values) => ({
  n: values.length,
  median: round(quantile(values, 0.5)),
  p90: round(quantile(values, 0.9)),
  min: round(Math.min(...values)),
  max: round(Math.max(...values)),
});

// ---------------------------------------------------------------- 2. start-up

async function startupRun(widget, probe, pageOptions, after) {
  const { context, page } = await freshPage({ ...widget.probe, startup: true, ...probe });
  try {
    await page.goto(widget.page(pageOptions), { waitUntil: "load" });
    await after(page);
    return await page.evaluate(() => __bench.marks);
  } finally {
    await context.close();
  }
}

async function startup() {
  const out = {};
  const wait = (page, what) => page.waitForFunction(what, null, { polling: 50, timeout: 30_000 });
  if (WIDGETS.has("ringside")) {
    const w = widgets.ringside;
    const launcher = [];
    const atOnce = [];
    const settled = [];
    const inline = [];
    for (let i = 0; i < RUNS; i++) {
      // The launcher is clicked in the very frame it is first painted: the
      // widget (glue + wasm) is not loaded yet, so the click waits for it.
      const a = await startupRun(w, { clickAtOnce: true }, {}, (page) => wait(page, () => __bench.marks.ready > 0));
      launcher.push(a.launcher);
      atOnce.push(a.ready - a.click);
      // The launcher is clicked once the page is quiet: the loader has
      // fetched the widget on idle, as it does before most first clicks.
      const b = await startupRun(w, {}, {}, async (page) => {
        await wait(page, () => __bench.marks.launcher > 0);
        await page.waitForLoadState("networkidle");
        await page.waitForTimeout(300);
        await page.locator(".rsc-launcher").click();
        await wait(page, () => __bench.marks.ready > 0);
      });
      launcher.push(b.launcher);
      settled.push(b.ready - b.click);
      const c = await startupRun(w, { launcher: null, inline: true }, { inline: true }, (page) =>
        wait(page, () => __bench.marks.inline > 0),
      );
      inline.push(c.inline);
    }
    out.ringside = {
      launcher_visible_ms: summary(launcher),
      click_to_input_ready_at_once_ms: summary(atOnce),
      click_to_input_ready_settled_ms: summary(settled),
      inline_input_ready_ms: summary(inline),
    };
    log("start-up ringside", JSON.stringify(out.ringside));
  }
  if (WIDGETS.has("deep-chat")) {
    const w = widgets["deep-chat"];
    const inline = [];
    for (let i = 0; i < RUNS; i++) {
      const m = await startupRun(w, { inline: true }, {}, (page) => wait(page, () => __bench.marks.inline > 0));
      inline.push(m.inline);
    }
    out["deep-chat"] = { inline_input_ready_ms: summary(inline) };
    log("start-up deep-chat", JSON.stringify(out["deep-chat"]));
  }
  return out;
}

// ---------------------------------------------------------- 3, 4. streaming

/** The content deltas of each read, from the SSE bytes the page received. */
function deltasPerRead(texts) {
  let buffer = "";
  return texts.map((text) => {
    buffer += text;
    const frames = buffer.split("\n\n");
    buffer = frames.pop();
    let content = "";
    let count = 0;
    for (const frame of frames) {
      const data = frame
        .split("\n")
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).replace(/^ /, ""))
        .join("\n");
      if (!data || data === "[DONE]") {
        count++;
        continue;
      }
      count++;
      const delta = JSON.parse(data).choices?.[0]?.delta?.content;
      if (delta) content += delta;
    }
    return { content, frames: count };
  });
}

const nonSpace = (text) => text.replace(/\s+/g, "").length;

/**
 * When the frame that paints a DOM change made at `t` began (see
 * lib/probe.js); without the frames (no frame loop), the change itself.
 */
function paintedAt(t, inFrame, frames, from) {
  if (inFrame || !frames.length) return { at: t, next: from };
  let i = from;
  while (i < frames.length && frames[i] < t) i++;
  return { at: i < frames.length ? frames[i] : NaN, next: i };
}

/**
 * One answer of `tokens` tokens, `delay` ms apart, through `widget`. With
 * `withText` (latency), the probe notes the answer's text at each change and
 * each frame (its frame loop); without, nothing of the probe's makes the page
 * render a frame, so what the page costs is its own and nothing is
 * subtracted from it.
 */
async function streamRun(widget, tokens, delay, withText) {
  const { context, page, cdp } = await freshRawPage(widget.probe);
  try {
    await page.goto(widget.page(), { waitUntil: "load" });
    await widget.prepare(page);
    // The visitor types before the answer's cost is measured; Enter starts it.
    await widget.type(page, "How do I embed the widget?");
    await page.evaluate((withText) => __bench.arm(withText), withText);
    await page.waitForTimeout(300);

    await stack.script({ token_count: tokens, token_delay_ms: delay, first_token_delay_ms: 0 });
    const busy0 = await busyNow(cdp);
    const sentAt = await page.evaluate(() => performance.now());
    const sentWall = Date.now();
    await widget.send(page);
    // The mock's pacing runs a little slower than scripted (timer ticks).
    const limit = (tokens * (delay ? delay + 2 : 0.05) * 1.3 + Number(opts["grace-s"]) * 1000) | 0;
    // Playwright's own timeout needs the page to answer; this one does not.
    const done = page
      .waitForFunction(
        () => __bench.lastByteAt > 0 && performance.now() - Math.max(__bench.lastByteAt, __bench.lastMutAt) > 500,
        null,
        { polling: 100, timeout: 0 },
      )
      .then(
        () => true,
        () => false,
      );
    const overLimit = !(await Promise.race([done, new Promise((resolve) => setTimeout(() => resolve(false), limit))]));
    // Past its limit, a page whose main thread is taken answers nothing until
    // it is free, which may be minutes: give it five seconds, then close it
    // and report what is known, a lower bound.
    const collected = (async () => {
      const busy1 = await busyNow(cdp);
      const data = await page.evaluate(() => __bench.collect());
      return { busy1, data };
    })();
    collected.catch(() => {});
    const got = overLimit ? await Promise.race([collected, new Promise((resolve) => setTimeout(() => resolve(null), 5000))]) : await collected;
    if (!got) {
      const elapsed = Date.now() - sentWall;
      return {
        tokens,
        token_delay_ms: delay,
        finished: false,
        unresponsive: true,
        limit_s: round(limit / 1000),
        busy_ms_per_1k_at_least: round(elapsed / (tokens / 1000)),
      };
    }
    const { busy1, data } = got;
    const endAt = data.frames.length ? data.frames[data.frames.length - 1] : Math.max(sentAt, data.lastByteAt, data.lastMutAt);
    return analyse({ data, tokens, delay, overLimit, limit, busy: minus(busy1, busy0), sentAt, endAt, paints: widget.paints !== false });
  } finally {
    await context.close();
  }
}

function analyse({ data, tokens, delay, overLimit, limit, busy, sentAt, endAt, paints }) {
  // The arrival time of each read that carried bytes (not the final `done`).
  data.readTimes = [];
  for (let i = 0; i < data.reads.length; i += 2) if (data.reads[i + 1] >= 0) data.readTimes.push(data.reads[i]);
  const perRead = deltasPerRead(data.texts);
  const received = perRead.map((r) => r.content).join("");
  const contentReads = perRead.filter((r) => r.content).length;
  const frames = perRead.reduce((n, r) => n + r.frames, 0);
  const paintedFraction = data.painted / Math.max(1, nonSpace(received));
  // Past its limit, a page whose main thread is taken answers only when it is
  // free again: by then it may have painted everything after all.
  const finished = data.lastByteAt > 0 && (!paints || paintedFraction >= 0.999);
  // Per 1k tokens painted: all of them, unless the run was cut off.
  const k = (finished ? tokens : tokens * Math.min(1, paintedFraction)) / 1000;
  // The last change to the answer's text, and the frame that painted it.
  const muts = data.muts;
  let lastPaint = NaN;
  if (muts.length) {
    const t = muts[muts.length - 2];
    lastPaint = paintedAt(t, muts[muts.length - 1] === 1, data.frames, 0).at;
  }
  // Long frames while the answer streamed (and until collected).
  let longFrames = 0;
  let longFramesMs = 0;
  let longest = 0;
  for (let i = 0; i < data.longFrames.length; i += 2) {
    if (data.longFrames[i] + data.longFrames[i + 1] < sentAt) continue;
    longFrames++;
    longFramesMs += data.longFrames[i + 1];
    longest = Math.max(longest, data.longFrames[i + 1]);
  }
  // With the frame loop (latency runs): frames dropped, rAF gaps over 1.5 frames.
  const streamFrames = data.frames.filter((t) => t >= sentAt && t <= (Number.isFinite(lastPaint) ? lastPaint : endAt) + FRAME_MS);
  let gaps = 0;
  let missed = 0;
  let worst = 0;
  for (let i = 1; i < streamFrames.length; i++) {
    const gap = streamFrames[i] - streamFrames[i - 1];
    worst = Math.max(worst, gap);
    if (gap > 1.5 * FRAME_MS) {
      gaps++;
      missed += Math.round(gap / FRAME_MS) - 1;
    }
  }
  const streamMs = (Number.isFinite(lastPaint) ? lastPaint : endAt) - sentAt;
  const expectedFrames = Math.max(1, Math.round(streamMs / FRAME_MS));
  const out = {
    tokens,
    token_delay_ms: delay,
    finished,
    over_limit: overLimit,
    limit_s: overLimit ? round(limit / 1000) : undefined,
    reads: data.readTimes.length,
    sse_frames: frames,
    frames_per_content_read: round(tokens / Math.max(1, contentReads), 2),
    painted_fraction: paints ? round(paintedFraction, 4) : undefined,
    stream_ms: round(streamMs),
    busy_ms: round(busy.task),
    busy_ms_per_1k: round(busy.task / k, 1),
    script_ms_per_1k: round(busy.script / k, 1),
    cpu_ms_per_1k: round(busy.cpu / k, 1),
    process_cpu_ms_per_1k: round(busy.process / k, 1),
    layout_style_ms_per_1k: round(busy.layout / k, 1),
    long_frames: longFrames,
    long_frames_ms: round(longFramesMs),
    longest_frame_ms: round(longest),
    ...(data.frames.length
      ? { frames_dropped: gaps, frames_missed: missed, frames_dropped_pct: round((100 * missed) / expectedFrames, 1), worst_frame_gap_ms: round(worst) }
      : {}),
    last_byte_to_last_paint_ms: data.lastByteAt && Number.isFinite(lastPaint) ? round(lastPaint - data.lastByteAt) : null,
  };
  if (data.samples) Object.assign(out, latency(data, perRead));
  return out;
}

/** 4. Each read's text: from its arrival at the page to the DOM, and to the frame that paints it. */
function latency(data, perRead) {
  const samples = data.samples; // t, inFrame, count
  let cumulative = 0;
  let s = 0;
  let f = 0;
  const toDom = [];
  const toPaint = [];
  for (let i = 0; i < perRead.length; i++) {
    if (!perRead[i].content) continue;
    const arrived = data.readTimes[i];
    cumulative += nonSpace(perRead[i].content);
    while (s < samples.length && samples[s + 2] < cumulative) s += 3;
    if (s >= samples.length) break;
    const t = samples[s];
    toDom.push(t - arrived);
    const painted = paintedAt(t, samples[s + 1] === 1, data.frames, f);
    f = painted.next;
    toPaint.push(painted.at - arrived);
  }
  const stats = (v) => ({ n: v.length, p50: round(quantile(v, 0.5), 2), p99: round(quantile(v, 0.99), 2), max: round(Math.max(...v), 2) });
  return { latency_to_dom_ms: stats(toDom), latency_to_paint_ms: stats(toPaint) };
}

/**
 * How many times ours and the reference pages answer each size: their
 * ratio is the target (issue #15), and one short run of each swings by tens
 * of percent with the machine. Each figure is the median of its runs, taken
 * in turns (ours, the floor, the bare renderer, ours, …), so a slow moment
 * of the machine falls on all of them alike. Paced answers of up to 1k
 * tokens are short and the floor's swing most (150 to 350 ms per 1k in one
 * hour): 5 runs each, not 3. A paced answer of 32k tokens lasts two
 * minutes: long enough to average itself.
 */
function repeats(delay, tokens) {
  if (delay === 0 || tokens <= 1000) return 5;
  return tokens <= 8000 ? 2 : 1;
}

/**
 * The median of each numeric figure of the runs that finished (the first
 * one's others), and how many did not (`failed_runs`, shown beside the
 * figure); the last run when none finished.
 */
function medianRun(all) {
  const runs = all.filter((run) => run.finished && !run.unresponsive);
  if (!runs.length) return all.at(-1);
  const failed = all.length - runs.length;
  if (runs.length === 1 && !failed) return runs[0];
  const out = { ...runs[0], runs: all.length, failed_runs: failed };
  for (const [key, value] of Object.entries(runs[0])) {
    if (typeof value !== "number") continue;
    const values = runs.map((run) => run[key]).filter((v) => typeof v === "number" && !Number.isNaN(v));
    out[key] = values.length ? round(median(values), 2) : value;
  }
  return out;
}

async function streaming() {
  const out = {};
  // Ours and the reference pages (the floor, the bare renderer) answer each
  // size in turns; the peer, after them, once per size.
  const turns = [
    ["ringside", widgets.ringside],
    ["ringside-before", widgets["ringside-before"]],
    ["floor", floor],
    ["plain", plain],
  ].filter(([id]) => WIDGETS.has(id));
  const others = Object.keys(widgets)
    .filter((id) => !id.startsWith("ringside") && WIDGETS.has(id))
    .map((id) => [id, widgets[id]]);
  for (const [id] of [...turns, ...others]) out[id] = { paced: [], flooded: [] };
  for (const [regime, delay] of [
    ["paced", PACED_DELAY],
    ["flooded", 0],
  ].filter(([regime]) => opts.regimes.split(",").includes(regime))) {
    // A page that fell far behind a shorter answer (or was cut off) is not
    // given a longer one: it would only fall further behind, for minutes,
    // and the figures would say nothing new.
    const behind = {};
    const runOnce = async (id, widget, tokens) => {
      const t0 = Date.now();
      const run = await streamRun(widget, tokens, delay, false);
      log(`streaming ${id} ${regime} ${tokens}: ${((Date.now() - t0) / 1000).toFixed(1)} s`, JSON.stringify(run));
      return run;
    };
    const judge = (id, run, tokens) => {
      if (run.unresponsive) behind[id] = `unresponsive past its ${run.limit_s} s limit at ${tokens} tokens`;
      else if (!run.finished) behind[id] = `cut off after ${run.limit_s} s at ${tokens} tokens`;
      else if (run.over_limit) behind[id] = `over its ${run.limit_s} s limit at ${tokens} tokens`;
      else if (run.last_byte_to_last_paint_ms > BEHIND_MS) {
        behind[id] = `${(run.last_byte_to_last_paint_ms / 1000).toFixed(1)} s behind the stream at ${tokens} tokens`;
      }
    };
    for (const tokens of SIZES) {
      const got = {};
      for (let i = 0; i < repeats(delay, tokens); i++) {
        for (const [id, widget] of turns) {
          if (behind[id]) continue;
          const run = await runOnce(id, widget, tokens);
          (got[id] ??= []).push(run);
          // An unresponsive page would hold up every turn after it.
          if (run.unresponsive) judge(id, run, tokens);
        }
      }
      for (const [id] of turns) {
        if (got[id]) {
          // The median of the runs that finished; a run that did not is
          // counted beside the figure, and fails it only if none finished.
          const run = medianRun(got[id]);
          out[id][regime].push(run);
          judge(id, run, tokens);
        } else {
          out[id][regime].push({ tokens, token_delay_ms: delay, skipped: behind[id] });
        }
      }
      for (const [id, widget] of others) {
        if (behind[id]) {
          out[id][regime].push({ tokens, token_delay_ms: delay, skipped: behind[id] });
          continue;
        }
        const run = await runOnce(id, widget, tokens);
        out[id][regime].push(run);
        judge(id, run, tokens);
      }
    }
  }
  return out;
}

/**
 * Where a paced answer's main-thread time goes: a Chrome trace of one paced
 * 1k-token answer through our widget, with the pointer away from the
 * widget (as a reader's usually is), summed by event over the renderer's
 * main thread. Nested events are counted in their parent too, so the rows
 * overlap; `frames` counts the frames the main thread produced (committed)
 * while it streamed, `counts` how many of each event there were. Run for the
 * floor too, so what the widget adds is the difference of the two.
 */
async function traceRun(id, widget) {
  const tokens = Number(opts["trace-tokens"]);
  const { context, page } = await freshRawPage(widget.probe);
  try {
    await page.goto(widget.page(), { waitUntil: "load" });
    await widget.prepare(page);
    await widget.type(page, "How do I embed the widget?");
    await page.evaluate(() => __bench.arm(false));
    await page.mouse.move(10, 10);
    await page.waitForTimeout(300);
    const delay = opts["trace-delay-ms"] === undefined ? PACED_DELAY : Number(opts["trace-delay-ms"]);
    await stack.script({ token_count: tokens, token_delay_ms: delay, first_token_delay_ms: 0 });
    await rawBrowser.startTracing(["devtools.timeline", "disabled-by-default-devtools.timeline", ...(opts["trace-cpu"] ? ["disabled-by-default-v8.cpu_profiler"] : []), ...opts["trace-categories"].split(",").filter(Boolean)]);
    await widget.send(page);
    await page.waitForFunction(() => __bench.lastByteAt > 0 && performance.now() - Math.max(__bench.lastByteAt, __bench.lastMutAt) > 500, null, {
      polling: 100,
      timeout: 180000,
    });
    const raw = await rawBrowser.stopTracing();
    if (opts["trace-out"]) writeFileSync(opts["trace-out"].replace(/(\.json)?$/, `-${id}$1`), raw);
    const trace = JSON.parse(raw.toString());
    const events = trace.traceEvents ?? trace;
    // The page's main thread: of the renderers' main threads, the one that ran the page's script.
    const calls = new Map();
    for (const e of events) if (e.name === "FunctionCall") calls.set(`${e.pid}:${e.tid}`, (calls.get(`${e.pid}:${e.tid}`) ?? 0) + 1);
    const ranScript = (t) => calls.get(`${t.pid}:${t.tid}`) ?? 0;
    const mains = events.filter((e) => e.name === "thread_name" && e.args?.name === "CrRendererMain");
    const main = mains.reduce((best, t) => (!best || ranScript(t) > ranScript(best) ? t : best), null);
    const names = {
      script: ["FunctionCall", "EvaluateScript", "v8.callFunction", "TimerFire", "FireAnimationFrame", "EventDispatch", "RunMicrotasks"],
      style: ["UpdateLayoutTree", "RecalculateStyles"],
      layout: ["Layout"],
      "pre-paint": ["PrePaint"],
      paint: ["Paint", "PaintImage"],
      layerize: ["Layerize"],
      commit: ["Commit"],
      "hit test": ["HitTest"],
      "intersection observers": ["IntersectionObserverController::computeIntersections", "UpdateIntersectionObservations"],
    };
    const sums = Object.fromEntries(Object.keys(names).map((k) => [k, 0]));
    const counts = Object.fromEntries(Object.keys(names).map((k) => [k, 0]));
    let frames = 0;
    let total = 0;
    for (const e of events) {
      if (!main || e.pid !== main.pid || e.tid !== main.tid) continue;
      if (e.ph !== "X" || !e.dur) continue;
      // Each frame the main thread produced ends in one commit to the compositor.
      if (e.name === "Commit") frames += 1;
      if (e.name === "RunTask" || e.name === "ThreadControllerImpl::RunTask") total += e.dur / 1000;
      for (const [k, list] of Object.entries(names)) {
        if (!list.includes(e.name)) continue;
        sums[k] += e.dur / 1000;
        counts[k] += 1;
      }
    }
    const round1 = (x) => Math.round(x * 10) / 10;
    return { tokens, token_delay_ms: delay, frames, tasks_ms: round1(total), by_event_ms: Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, round1(v)])), counts };
  } finally {
    await context.close();
  }
}

async function latencyRuns() {
  const out = {};
  const tokens = Number(opts["latency-tokens"]);
  for (const id of Object.keys(widgets).filter((id) => WIDGETS.has(id))) {
    out[id] = await streamRun(widgets[id], tokens, PACED_DELAY, true);
    log(`latency ${id}`, JSON.stringify(out[id]));
  }
  return out;
}

// --------------------------------------------------------- 5. parser in wasm

async function parser() {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(stack.page(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>SSE</title></head><body>
<script type="module">
import init, { Bench } from "${stack.cdnUrl}/sse/ringside_bench_sse.js";
window.runBench = async () => {
  await init({ module_or_path: "${stack.cdnUrl}/sse/ringside_bench_sse_bg.wasm" });
  const bench = new Bench(4000);
  const out = { bytes: bench.bytes() };
  for (const [name, size] of [["frame_reads", 0], ["16k_reads", 16384], ["1_byte_reads", 1]]) {
    bench.run(size, 3); // warm-up: compiled by the optimising tier
    let rounds = 1;
    for (;;) {
      const t = performance.now();
      bench.run(size, rounds);
      if (performance.now() - t > 150) break;
      rounds *= 2;
    }
    const rates = [];
    for (let i = 0; i < 7; i++) {
      const t = performance.now();
      bench.run(size, rounds);
      rates.push((bench.bytes() * rounds) / ((performance.now() - t) * 1000));
    }
    rates.sort((a, b) => a - b);
    out[name] = { mb_per_s: Math.round(rates[3] * 10) / 10, samples: rates.length, rounds };
  }
  return out;
};
</script></body></html>`));
    return await page.evaluate(() => window.runBench());
  } finally {
    await context.close();
  }
}

// ---------------------------------------------------------------- the run

/** Runs one phase, noting how long it took and the machine's load around it. */
async function phase(name, body) {
  const started = Date.now();
  const load_before = os.loadavg().map((x) => round(x, 2));
  const value = await body();
  results.phases.push({ name, seconds: round((Date.now() - started) / 1000), load_before, load_after: os.loadavg().map((x) => round(x, 2)) });
  return value;
}
results.phases = [];
try {
  if (ONLY.has("startup")) results.startup = await phase("startup", startup);
  if (ONLY.has("streaming")) results.streaming = await phase("streaming", streaming);
  if (ONLY.has("latency")) results.latency = await phase("latency", latencyRuns);
  if (ONLY.has("trace") && WIDGETS.has("ringside")) {
    results.trace = await phase("trace", async () => {
      const out = { ringside: await traceRun("ringside", widgets.ringside) };
      if (WIDGETS.has("floor")) out.floor = await traceRun("floor", floor);
      if (WIDGETS.has("plain")) out.plain = await traceRun("plain", plain);
      return out;
    });
    log("trace", JSON.stringify(results.trace));
  }
  if (ONLY.has("parser") && opts["sse-wasm"]) {
    results.parser_wasm = await phase("parser", parser);
    log("parser wasm", JSON.stringify(results.parser_wasm));
  }
} finally {
  await browser.close();
  await rawBrowser.close();
  await stack.stop();
}
results.dist = opts.dist;
if (opts["before-dist"]) results.before_dist = opts["before-dist"];
writeFileSync(opts.out, JSON.stringify(results, null, 2));
