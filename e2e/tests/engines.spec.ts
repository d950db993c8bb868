// Issue 14, "Browsers": the cross-browser subset, run in Chromium, Firefox
// ESR and WebKit (the `chromium`, `firefox` and `webkit` projects of
// playwright.config.ts), each driven through WebDriver (see webdriver.ts):
// the skeleton (open, send, watch it stream, read by the widget's worker), Stop, a cut stream that keeps
// its partial text, persistence across a reload, the script-tag and
// custom-element embeddings, the inline help panel, the full-screen layout of
// a phone-sized viewport, the Markdown models write (steps with code, nested
// lists, a wide table, task boxes) on a 360 px phone, a rating that stays,
// and a signed-in user's conversation on another device with its history. One browser per engine and worker serves
// every test; each test has its own servers, so its own origin and storage.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { TestInfo } from "@playwright/test";

import { test as stackTest, expect, belowView, EXAMPLES, type Stack } from "./stack";
import { COOKIE, sessionMint, sessionToken } from "./session";
import { Browser, type ElementRef, type Engine } from "./webdriver";

const test = stackTest.extend<{ wd: Browser }, { engine: Engine; engineBrowser: Browser }>({
  engine: ["chromium", { option: true, scope: "worker" }],
  engineBrowser: [
    async ({ engine }, use) => {
      const browser = await Browser.start(engine);
      console.log(`[${engine}] ${browser.version}`);
      await use(browser);
      await browser.quit();
    },
    { scope: "worker", timeout: 60_000 },
  ],
  wd: async ({ engineBrowser }, use) => {
    await use(engineBrowser);
    // The next test starts from the top document of a blank page.
    await engineBrowser.switchToFrame(null).catch(() => {});
    await engineBrowser.goto("about:blank").catch(() => {});
  },
});

// The widget's shadow root (the last widget on the page), in page scripts.
const ROOT = `const hosts = document.querySelectorAll("[data-ringside-chat]");
const root = hosts.length ? hosts[hosts.length - 1].shadowRoot : null;`;

/** An element inside the widget, once it exists. */
function part(wd: Browser, selector: string): Promise<ElementRef> {
  return wd.waitFor(`${selector} in the widget`, `${ROOT} return root && root.querySelector(arguments[0]);`, 20_000, selector);
}

/** What the transcript shows: questions, answers (text and footer), and whether an answer streams. */
type Shown = { questions: string[]; answers: string[]; footers: string[]; busy: boolean };
function shown(wd: Browser): Promise<Shown> {
  return wd.execute(`${ROOT}
    const all = (s) => root ? [...root.querySelectorAll(s)].map((e) => e.innerText.trim()) : [];
    const log = root && root.querySelector(".rsc-log");
    return {
      questions: all(".rsc-msg--user .rsc-msg__body"),
      answers: all(".rsc-msg--assistant .rsc-msg__body"),
      footers: all(".rsc-msg--assistant .rsc-msg__footer"),
      busy: !log || log.getAttribute("aria-busy") === "true",
    };`);
}

async function until(wd: Browser, what: string, check: (s: Shown) => boolean, timeoutMs = 20_000): Promise<Shown> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await shown(wd);
    if (check(s)) return s;
    if (Date.now() > deadline) throw new Error(`${wd.engine}: timed out waiting for ${what}: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Opens a floating widget by its launcher, as a user does. */
async function open(wd: Browser): Promise<void> {
  await wd.click(await part(wd, ".rsc-launcher"));
  await wd.waitFor("the open panel", `${ROOT} const p = root && root.querySelector(".rsc-panel"); return !!p && !p.hidden;`);
}

/** Types `text` in the message box and presses Enter. */
async function send(wd: Browser, text: string): Promise<void> {
  await wd.type(await part(wd, ".rsc-composer__input"), `${text}\uE007`);
}

async function ask(wd: Browser, text: string, count: number): Promise<Shown> {
  await send(wd, text);
  return until(wd, `the answer to "${text}"`, (s) => s.questions.length === count && s.answers.length === count && !s.busy);
}

/** A host page with the widget's script tag and these `data-*` options. */
function scriptTagPage(stack: Stack, name: string, options: Record<string, string> = {}): string {
  const attrs = Object.entries({ "token-endpoint": "/api/chat-token", title: "Help", ...options })
    .map(([k, v]) => ` data-${k}="${v}"`)
    .join("");
  return stack.writePage(
    name,
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Host</title></head>
     <body><main><h1>A host page</h1></main><script src="/ringside-chat.js"${attrs} async></script></body></html>`,
  );
}

test("skeleton: a script tag's widget opens, sends, and the answer streams in visible steps", async ({ wd, stack }) => {
  const question = "What rockets do you sell?";
  // Plain words (the same text as Markdown or as plain text), 2.5 s of them:
  // whenever the answers' chunk comes, the widget paints within 1.5 s of the
  // first token (as plain text if it must, see src/render.rs), so more of
  // the answer arrives after the first step. With the stack's 0.7 s answer,
  // a slow first start of WebKit loaded the chunk after the answer's end,
  // and it showed whole, in one step, as designed.
  const answer = Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ");
  await stack.script({ text: answer, first_token_delay_ms: 100, token_delay_ms: 60 });
  await wd.goto(scriptTagPage(stack, "skeleton.html"));
  await part(wd, ".rsc-launcher");
  // Every text the answer shows, from the page itself: a MutationObserver
  // (a requestAnimationFrame loop started from a WebDriver script recorded
  // nothing in WebKitGTK's MiniBrowser in our runs; see README's engine notes).
  await wd.execute(`${ROOT}
    window.__seen = [];
    new MutationObserver(() => {
      const bodies = root.querySelectorAll(".rsc-msg--assistant .rsc-msg__body");
      // trimEnd: WebKit's innerText ends a block with a new line, the others do not.
      const text = bodies.length ? bodies[bodies.length - 1].innerText.trimEnd() : "";
      if (text && window.__seen[window.__seen.length - 1] !== text) window.__seen.push(text);
    }).observe(root, { subtree: true, childList: true, characterData: true });
    // What the widget's worker (js/stream-batches.js, started when the panel
    // opens) hands over: its start, the response and the answer's batches;
    // nothing if it could not start. Batches of text: it decoded them with
    // the widget's own wasm (src/decoder.rs); of bytes: the page did.
    window.__fromWorker = 0;
    window.__batches = { text: 0, bytes: 0 };
    const Native = window.Worker;
    window.Worker = function (url, options) {
      const worker = new Native(url, options);
      worker.addEventListener("message", ({ data }) => {
        window.__fromWorker++;
        // By shape, not instanceof: the driver's script may run in a realm
        // of its own (Firefox), whose Uint8Array is not the page's.
        const bytes = (v) => !!v && typeof v.byteLength === "number";
        if (data && bytes(data.batch)) window.__batches.bytes++;
        else if (data && data.batch && bytes(data.batch.utf8)) window.__batches.text++;
      });
      return worker;
    };`);
  await open(wd);
  await ask(wd, question, 1);
  expect(await wd.execute("return window.__fromWorker;"), "the answer was read off the page's main thread, by the widget's worker").toBeGreaterThan(3);
  expect(await wd.execute("return window.__batches;"), "and decoded there: the page got text").toEqual({ text: expect.any(Number), bytes: 0 });
  expect(await wd.execute("return window.__batches.text;")).toBeGreaterThan(2);
  const seen: string[] = await wd.execute("return window.__seen;");
  expect(seen.length, `the answer appeared in ${seen.length} step(s)`).toBeGreaterThanOrEqual(2);
  for (let i = 1; i < seen.length; i++) expect(seen[i].startsWith(seen[i - 1]), "each step only appends").toBe(true);
  expect(seen.at(-1)).toBe(answer);
});

test("Stop keeps the partial answer, marked stopped, and nothing arrives after it", async ({ wd, stack }) => {
  await stack.script({ token_count: 400, token_delay_ms: 20, first_token_delay_ms: 0 });
  await wd.goto(scriptTagPage(stack, "stop.html"));
  await open(wd);
  await send(wd, "Tell me a long story");
  await until(wd, "some text", (s) => (s.answers[0] ?? "").length > 10);
  await wd.click(await part(wd, ".rsc-composer__send[data-action=stop]"));
  const stopped = await until(wd, "the stop", (s) => !s.busy);
  expect(stopped.footers[0]).toContain("Stopped.");
  expect(stopped.answers[0].length).toBeGreaterThan(0);
  await new Promise((r) => setTimeout(r, 300));
  expect((await shown(wd)).answers[0], "nothing arrives after Stop").toBe(stopped.answers[0]);
});

test("a cut stream keeps its partial text, marked, with Retry", async ({ wd, stack }) => {
  await stack.script({ token_count: 40, token_delay_ms: 5, fault: { kind: "drop", after: 8 } });
  await wd.goto(scriptTagPage(stack, "cut.html"));
  await open(wd);
  const cut = await ask(wd, "Tell me", 1);
  expect(cut.footers[0]).toContain("The answer was interrupted.");
  expect(cut.answers[0].split(/\s+/).length, "the 8 tokens that arrived are kept").toBe(8);
  await part(wd, ".rsc-msg--assistant [data-action=retry]");
});

// `belowView` (tests/stack.ts), for page scripts.
const BELOW = `const belowView = ${belowView};`;

test("a streaming answer keeps its end in view as it grows", async ({ wd, stack }) => {
  // 3 s of tokens: the reader stays at the bottom and every paint must keep
  // the new text in view (the log is laid out from its end, src/ui.rs).
  await stack.script({ token_count: 300, token_delay_ms: 10, first_token_delay_ms: 0 });
  await wd.goto(scriptTagPage(stack, "follow.html"));
  await open(wd);
  await send(wd, "Tell me at length");
  const look = () =>
    wd.execute(`${ROOT} ${BELOW}
      const log = root.querySelector(".rsc-log");
      return { below: belowView(log), height: log.scrollHeight,
        busy: log.getAttribute("aria-busy") === "true" };`) as Promise<{ below: number; height: number; busy: boolean }>;
  const seen: { below: number; height: number }[] = [];
  for (let s = await look(); s.busy || seen.length === 0; s = await look()) {
    seen.push(s);
    await new Promise((r) => setTimeout(r, 40));
  }
  seen.push(await look());
  const grew = seen.at(-1)!.height - seen[0].height;
  expect(grew, `${wd.engine}: the answer grew the log while we looked`).toBeGreaterThan(1000);
  const worst = Math.max(...seen.map((s) => s.below));
  // A paint of paced tokens adds less than a line; one late look may see it.
  expect(worst, `${wd.engine}: the farthest the end went below the view, over ${seen.length} looks`).toBeLessThan(80);
  expect(seen.at(-1)!.below, `${wd.engine}: the end is in view`).toBeLessThan(30);
});

test("a reader who scrolled up stays where they are while the answer grows below", async ({ wd, stack }) => {
  // Scroll anchoring keeps them in place in Chromium and Firefox; WebKit has
  // none, and the widget moves the view back by what each paint added there.
  await stack.script({ token_count: 400, token_delay_ms: 10, first_token_delay_ms: 0 });
  await wd.goto(scriptTagPage(stack, "scrolled-up.html"));
  await open(wd);
  await send(wd, "Tell me at length");
  await wd.waitFor("an answer taller than the log", `${ROOT}
    const log = root.querySelector(".rsc-log");
    return log.scrollHeight - log.clientHeight > 400;`);
  // The reader scrolls up 300 px and reads; the answer's first paragraph marks where.
  const place = () =>
    wd.execute(`${ROOT}
      const log = root.querySelector(".rsc-log");
      return { top: root.querySelector(".rsc-msg--assistant p").getBoundingClientRect().top - log.getBoundingClientRect().top,
        height: log.scrollHeight, busy: log.getAttribute("aria-busy") === "true" };`) as Promise<{ top: number; height: number; busy: boolean }>;
  await wd.execute(`${ROOT} root.querySelector(".rsc-log").scrollBy({ top: -300 });`);
  const jump = () =>
    wd.waitFor("Jump to latest", `${ROOT} const jump = root.querySelector(".rsc-jump"); return jump && !jump.hidden ? jump : null;`);
  await jump();
  const seen = [await place()];
  while (seen.at(-1)!.busy) {
    await new Promise((r) => setTimeout(r, 40));
    seen.push(await place());
  }
  const grew = seen.at(-1)!.height - seen[0].height;
  expect(grew, `${wd.engine}: the answer grew below the reader while we looked`).toBeGreaterThan(300);
  const moved = Math.max(...seen.map((s) => Math.abs(s.top - seen[0].top)));
  expect(moved, `${wd.engine}: the farthest the text the reader looks at moved, over ${seen.length} looks`).toBeLessThan(2);
  // Jump to latest takes them to the end.
  await wd.click(await jump());
  const below = await wd.execute(`${ROOT} ${BELOW} return belowView(root.querySelector(".rsc-log"));`);
  expect(below, `${wd.engine}: the end is in view after the jump`).toBeLessThan(30);
});

test("the log scrolls by keyboard: Home to the first message, End back to the latest", async ({ wd, stack }) => {
  // The log is laid out from its end (column-reverse): Home and End must
  // still mean the top and the bottom a reader sees.
  await stack.script({ token_count: 400, token_delay_ms: 0, first_token_delay_ms: 0 });
  await wd.goto(scriptTagPage(stack, "keys.html"));
  await open(wd);
  await ask(wd, "Tell me at length", 1);
  const log = await part(wd, ".rsc-log");
  const place = `${ROOT} ${BELOW}
    const log = root.querySelector(".rsc-log");
    const first = root.querySelector(".rsc-msg").getBoundingClientRect().top - log.getBoundingClientRect().top;`;
  expect(await wd.execute(`${place} return log.scrollHeight - log.clientHeight;`), `${wd.engine}: the log overflows`).toBeGreaterThan(600);
  await wd.type(log, "\uE011"); // Home
  await wd.waitFor(`${wd.engine}: the first message at the top after Home`, `${place} return first >= 0 && first < 40;`);
  await wd.type(log, "\uE010"); // End
  await wd.waitFor(`${wd.engine}: the end in view after End`, `${place} return belowView(log) < 30;`);
});

test("a long answer ends in view; its blocks far above the end are skipped until the reader scrolls to them", async ({ wd, stack }) => {
  // About a hundred paragraphs at once; all but the last two groups of 16
  // are `content-visibility: auto` (src/painter.rs).
  await stack.script({ token_count: 3000, token_delay_ms: 0, first_token_delay_ms: 0 });
  await wd.goto(scriptTagPage(stack, "long.html"));
  await open(wd);
  await ask(wd, "Everything, please", 1);
  const state = () =>
    wd.execute(`${ROOT} ${BELOW}
      const log = root.querySelector(".rsc-log");
      const blocks = root.querySelectorAll(".rsc-msg--assistant .rsc-msg__body p");
      const seen = (p) => p.checkVisibility({ contentVisibilityAuto: true });
      return {
        below: belowView(log),
        first: seen(blocks[0]),
        last: seen(blocks[blocks.length - 1]),
        words: [...blocks].map((p) => p.textContent).join(" ").split(/\\s+/).filter(Boolean).length,
      };`) as Promise<{ below: number; first: boolean; last: boolean; words: number }>;
  const end = await state();
  expect(end.below, `${wd.engine}: the end is in view`).toBeLessThan(30);
  expect(end, `${wd.engine}: at the end`).toEqual({ below: end.below, first: false, last: true, words: 3000 });
  // To the top: a negative offset (the log's scroll origin is its end; browsers clamp).
  await wd.execute(`${ROOT} const log = root.querySelector(".rsc-log"); log.scrollTo({ top: -log.scrollHeight });`);
  await wd.waitFor("the first block laid out at the top", `${ROOT}
    return root.querySelector(".rsc-msg--assistant .rsc-msg__body p").checkVisibility({ contentVisibilityAuto: true });`);
});

test("the conversation survives a reload", async ({ wd, stack }) => {
  const url = scriptTagPage(stack, "persist.html");
  await wd.goto(url);
  await open(wd);
  await ask(wd, "Remember this", 1);
  await wd.goto(url);
  await open(wd);
  const back = await until(wd, "the restored conversation", (s) => s.questions.length === 1 && s.answers.length === 1);
  expect(back.questions).toEqual(["Remember this"]);
});

test("the custom element mounts an inline panel that chats", async ({ wd, stack }) => {
  await wd.goto(
    stack.writePage(
      "element.html",
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><script src="/ringside-chat.js"></script></head><body>
       <ringside-chat token-endpoint="/api/chat-token" mode="inline" title="Inline" style="height:500px"></ringside-chat></body></html>`,
    ),
  );
  await part(wd, ".rsc-panel--inline:not([hidden])");
  const launcher = await wd.execute(`${ROOT} return root.querySelector(".rsc-launcher");`);
  expect(launcher, "inline: no launcher").toBeNull();
  const done = await ask(wd, "Hello from the element", 1);
  expect(done.questions).toEqual(["Hello from the element"]);
});

test("the inline help panel fills its container and answers the host's button", async ({ wd, stack }) => {
  stack.writePage("help-panel.js", readFileSync(path.join(EXAMPLES, "help-panel/help-panel.js"), "utf8"));
  await wd.goto(stack.writePage("billing.html", readFileSync(path.join(EXAMPLES, "help-panel/index.html"), "utf8")));
  await part(wd, ".rsc-panel--inline:not([hidden])");
  const sizes = await wd.execute(`${ROOT}
    const a = document.querySelector("#help").getBoundingClientRect();
    const p = root.querySelector(".rsc-panel").getBoundingClientRect();
    return [a.width, a.height, p.width, p.height];`);
  expect(Math.abs(sizes[0] - sizes[2]), `widths ${sizes}`).toBeLessThan(2);
  expect(Math.abs(sizes[1] - sizes[3]), `heights ${sizes}`).toBeLessThan(2);
  await wd.click(await wd.waitFor("the host's button", `return document.querySelector("#ask-about-page");`));
  const done = await until(wd, "the answer", (s) => s.answers.length === 1 && !s.busy);
  expect(done.questions).toEqual(["Explain this page to me."]);
});

test("in a phone-sized viewport the open panel takes the whole screen", async ({ wd, stack }) => {
  // A 390×760 viewport in any engine and window: the page in a frame that size.
  await phone(wd, stack, scriptTagPage(stack, "phone-inner.html"), 390, 760);
  await open(wd);
  const box = await wd.execute(`${ROOT}
    const r = root.querySelector(".rsc-panel").getBoundingClientRect();
    return [r.x, r.y, r.width, r.height, innerWidth, innerHeight];`);
  expect(box, "the panel covers the viewport").toEqual([0, 0, 390, 760, 390, 760]);
  await ask(wd, "From my phone", 1);
});

/** Keeps a screenshot as a test artifact: `e2e/test-results/screenshots/<engine>-<name>.png`. */
async function shot(wd: Browser, info: TestInfo, name: string): Promise<void> {
  const body = await wd.screenshot();
  const dir = path.join(info.project.outputDir, "screenshots");
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${wd.engine}-${name}.png`), body);
  await info.attach(`${wd.engine}-${name}`, { body, contentType: "image/png" });
}

/** Opens `inner` in a frame of a phone's viewport (`width`×`height`, in any engine and window) and enters it. */
async function phone(wd: Browser, stack: Stack, inner: string, width: number, height: number): Promise<void> {
  await wd.goto(
    stack.writePage(
      `phone-${width}.html`,
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><style>body{margin:0}iframe{border:0;display:block}</style></head>
       <body><iframe id="phone" src="${inner}" width="${width}" height="${height}" title="Phone"></iframe></body></html>`,
    ),
  );
  await wd.switchToFrame(await wd.waitFor("the frame", `return document.querySelector("#phone");`));
}

/** Cuts `text` into pieces of 1 to 4 characters, as a tokenizer might. */
function pieces(text: string): string[] {
  const out: string[] = [];
  for (let i = 0, n = 1; i < text.length; i += n, n = 1 + ((n * 7 + i) % 4)) out.push(text.slice(i, i + n));
  return out;
}

const SHAPES =
  "Set it up:\n\n1. Install it:\n\n   ```bash\n   npm install acme-widget\n   ```\n\n2. Run it:\n   - **dev**: `npm run dev`\n     - watches *every* file\n\n" +
  "| Feature | Free | Starter | Pro | Team | Enterprise |\n|---|:---:|---|---|---|---:|\n" +
  "| Conversations per month | 100 | 1,000 | 10,000 | 50,000 | unlimited |\n" +
  "| Single sign-on with your identity provider | no | no | no | yes | yes |\n\n" +
  "- [x] SSO on Team\n- [ ] Audit log\n";

test("on a 360 px phone, steps with code, nested lists, a wide table and task boxes render as meant; the table scrolls in its own box", async ({ wd, stack }, info) => {
  await stack.script({ tokens: pieces(SHAPES), token_delay_ms: 3, first_token_delay_ms: 0 });
  await phone(wd, stack, scriptTagPage(stack, "shapes.html"), 360, 640);
  await open(wd);
  await ask(wd, "How do I set it up, and what do the plans include?", 1);
  const body = `${ROOT} const body = root.querySelector(".rsc-msg--assistant .rsc-msg__body");`;
  const structure = await wd.execute(`${body}
    const steps = body.querySelectorAll("ol");
    const items = body.querySelectorAll("ol > li");
    const frame = body.querySelector(".rsc-table");
    const log = root.querySelector(".rsc-log");
    return {
      lists: steps.length,
      steps: items.length,
      codeInFirstStep: items[0] && items[0].querySelector("pre code") ? items[0].querySelector("pre code").textContent.trim() : null,
      nested: [...body.querySelectorAll("ol > li ul > li ul > li")].map((li) => li.textContent.trim()),
      headers: [...body.querySelectorAll("th")].map((th) => th.textContent.trim()),
      rows: body.querySelectorAll("tbody tr").length,
      align: [...body.querySelectorAll("tbody tr:first-child td")].map((td) => getComputedStyle(td).textAlign),
      boxes: [...body.querySelectorAll("input[type=checkbox]")].map((b) => [b.checked, b.disabled]),
      frame: frame ? [frame.scrollWidth, frame.clientWidth] : null,
      log: [log.scrollWidth, log.clientWidth],
      pipes: body.innerText.includes("|"),
    };`);
  expect(structure.lists, "one numbered list, not cut in pieces").toBe(1);
  expect(structure.steps).toBe(2);
  expect(structure.codeInFirstStep, "the code stays in its step").toBe("npm install acme-widget");
  expect(structure.nested).toEqual(["watches every file"]);
  expect(structure.headers).toEqual(["Feature", "Free", "Starter", "Pro", "Team", "Enterprise"]);
  expect(structure.rows).toBe(2);
  expect(structure.align.slice(0, 2)).toEqual([expect.stringMatching(/^(start|left)$/), "center"]);
  expect(structure.align[5]).toBe("right");
  expect(structure.boxes, "task boxes: disabled, checked as written").toEqual([
    [true, true],
    [false, true],
  ]);
  expect(structure.pipes, "no table syntax on screen").toBe(false);
  expect(structure.frame![0], "the table is wider than its box").toBeGreaterThan(structure.frame![1]);
  expect(structure.log[0], "the panel never scrolls sideways").toBeLessThanOrEqual(structure.log[1]);
  const scrolled = await wd.execute(`${body} const f = body.querySelector(".rsc-table"); f.scrollLeft = 120; return f.scrollLeft;`);
  expect(scrolled, "the table's box scrolls").toBeGreaterThan(0);
  await wd.execute(`${body} body.querySelector(".rsc-table").scrollLeft = 0;`);
  await wd.switchToFrame(null);
  await shot(wd, info, "table-360px");
});

test("an answer rated Helpful stays rated after a reload", async ({ wd, stack }, info) => {
  const url = scriptTagPage(stack, "rate.html");
  await wd.goto(url);
  await open(wd);
  await ask(wd, "Is it fast?", 1);
  await wd.click(await part(wd, ".rsc-msg--assistant [data-action=up]"));
  await part(wd, ".rsc-msg--assistant [data-action=up][aria-pressed=true]");
  // The thumbs are drawn (no emoji font needed), in the button's colour.
  const drawn = await wd.execute(`${ROOT} return [...root.querySelectorAll(".rsc-rate svg")].map((svg) => svg.getBoundingClientRect().width);`);
  expect(drawn, "two thumbs, 14 px wide").toEqual([14, 14]);
  await shot(wd, info, "rated");
  await wd.goto(url);
  await open(wd);
  await until(wd, "the restored answer", (s) => s.answers.length === 1);
  // Its rating buttons come with the answers' chunk.
  await part(wd, ".rsc-msg--assistant .rsc-rate");
  const pressed = await wd.execute(`${ROOT} return [...root.querySelectorAll(".rsc-msg--assistant .rsc-rate")].map((b) => b.getAttribute("aria-pressed"));`);
  expect(pressed, "Helpful pressed, Not helpful not").toEqual(["true", "false"]);
});

test.describe("a signed-in user", () => {
  test.use({ mintSetup: sessionMint(["--threads"]) });

  test("finds their conversation on another device, and it is listed under Past conversations", async ({ wd, stack }, info) => {
    const url = scriptTagPage(stack, "account.html", { persist: "server" });
    await wd.goto(url);
    await wd.execute(`document.cookie = arguments[0] + "=" + arguments[1] + "; path=/";`, COOKIE, sessionToken("erin"));
    await wd.goto(url);
    await open(wd);
    await ask(wd, "Where is my order?", 1);
    const messages = async () => {
      const threads = (await (await stack.mockApi("/v1/threads")).json()).data;
      return threads.length === 1 ? (await (await stack.mockApi(`/v1/threads/${threads[0].id}/messages`)).json()).data.length : -threads.length;
    };
    await expect.poll(messages, { message: "the exchange is kept in one thread", timeout: 15_000 }).toBe(2);

    // Another device: the same user, nothing stored in this browser.
    await wd.execute("localStorage.clear(); sessionStorage.clear();");
    await wd.goto(url);
    await open(wd);
    const back = await until(wd, "the conversation from the server", (s) => s.questions.length === 1 && s.answers.length === 1);
    expect(back.questions).toEqual(["Where is my order?"]);
    await wd.click(await part(wd, "button[aria-label='Past conversations']"));
    const listed = await wd.waitFor<string>(
      "the history",
      `${ROOT} const item = root.querySelector(".rsc-history__item .rsc-history__name"); return item && item.textContent;`,
    );
    expect(listed).toBe("Where is my order?");
    await shot(wd, info, "history");
  });
});
