// Issue 14, "Browsers": the cross-browser subset, run in Chromium, Firefox
// ESR and WebKit (the `chromium`, `firefox` and `webkit` projects of
// playwright.config.ts), each driven through WebDriver (see webdriver.ts):
// the skeleton (open, send, watch it stream), Stop, a cut stream that keeps
// its partial text, persistence across a reload, the script-tag and
// custom-element embeddings, the inline help panel, and the full-screen
// layout of a phone-sized viewport. One browser per engine and worker serves
// every test; each test has its own servers, so its own origin and storage.
import { readFileSync } from "node:fs";
import path from "node:path";

import { test as stackTest, expect, expectedAnswer, EXAMPLES, type Stack } from "./stack";
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
  const answer = await expectedAnswer(stack, question);
  await wd.goto(scriptTagPage(stack, "skeleton.html"));
  await open(wd);
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
    }).observe(root, { subtree: true, childList: true, characterData: true });`);
  await ask(wd, question, 1);
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
  const inner = scriptTagPage(stack, "phone-inner.html");
  await wd.goto(
    stack.writePage(
      "phone.html",
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><style>body{margin:0}iframe{border:0;display:block}</style></head>
       <body><iframe id="phone" src="${inner}" width="390" height="760" title="Phone"></iframe></body></html>`,
    ),
  );
  await wd.switchToFrame(await wd.waitFor("the frame", `return document.querySelector("#phone");`));
  await open(wd);
  const box = await wd.execute(`${ROOT}
    const r = root.querySelector(".rsc-panel").getBoundingClientRect();
    return [r.x, r.y, r.width, r.height, innerWidth, innerHeight];`);
  expect(box, "the panel covers the viewport").toEqual([0, 0, 390, 760, 390, 760]);
  await ask(wd, "From my phone", 1);
});
