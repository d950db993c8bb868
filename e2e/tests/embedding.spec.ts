// Issue #6: the three ways hosts embed the widget, each on a page we did not
// write: a script tag with assets from a CDN, the npm package in a Vite app,
// and the inline help panel; plus the custom element, isolation from hostile
// CSS, a strict CSP, two widgets on a page, destroy(), phones, themes, RTL.
import { readFileSync } from "node:fs";
import path from "node:path";
import { test, expect, Widget, EXAMPLES, expectedAnswer, words, countWorkers, workerCounts, type Stack } from "./stack";
import type { Page, TestInfo } from "@playwright/test";

/** Keeps a screenshot of a mode as a test artifact: `e2e/test-results/screenshots/<name>.png`. */
async function shot(page: Page, info: TestInfo, name: string): Promise<void> {
  const file = path.join(info.project.outputDir, "screenshots", `${name}.png`);
  await info.attach(name, { body: await page.screenshot({ path: file }), contentType: "image/png" });
}

test("a marketing page's one script tag, with the widget's files on a CDN origin, streams answers", async ({ page, stack }, info) => {
  const cdn = await stack.cdn();
  const html = readFileSync(path.join(EXAMPLES, "marketing/index.html"), "utf8").replaceAll("{{ASSETS}}", cdn);
  await page.goto(stack.writePage("marketing.html", html));
  const widget = new Widget(page);
  await widget.open();
  await expect(widget.dialog()).toHaveAccessibleName("Ask Acme");
  await widget.log().getByRole("button", { name: "What does a launch cost?" }).click();
  await widget.idle();
  const answer = await expectedAnswer(stack, "What does a launch cost?");
  await expect(widget.answers().last()).toContainText(answer.slice(0, 40));
  await shot(page, info, "marketing-floating");
  expect(await page.evaluate(() => typeof (window as any).RingsideChat.mount)).toBe("function");
});

test("the loader tolerates async, defer and being included twice", async ({ page, stack }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const tag = (extra: string) => `<script src="/ringside-chat.js" data-token-endpoint="/api/chat-token" ${extra}></script>`;
  await page.goto(stack.writePage("twice.html", `<!doctype html><html lang="en"><head>${tag("defer")}</head><body><p>x</p>${tag("async")}</body></html>`));
  await expect(page.getByRole("button", { name: "Open chat" })).toHaveCount(1);
  const widget = new Widget(page);
  await widget.open();
  await widget.ask("Still one widget?");
  expect(errors).toEqual([]);
});

test("a Vite app using the npm package (installed from the packed tarball) chats, with typed events", async ({ page, stack }, info) => {
  // The built app, served from the host's site root as Vite's default base expects.
  stack.copyDir(path.join(EXAMPLES, "vite-app/dist/assets"), "assets");
  await page.goto(stack.writePage("vite.html", readFileSync(path.join(EXAMPLES, "vite-app/dist/index.html"), "utf8")));
  await expect(page.locator("#status")).toHaveText("The assistant is ready.");
  const widget = new Widget(page);
  await widget.open();
  await expect(widget.dialog()).toHaveAccessibleName("Acme Assistant");
  await widget.ask("Hello from Vite");
  await expect(page.locator("#status")).toHaveText("Answers so far: 1");
  // Vite emitted the answers chunk as an asset, and the answer came through it.
  await expect(widget.answers().last().locator(".rsc-msg__body > .rsc-volume > .rsc-chunk")).not.toHaveCount(0);
  await expect(widget.log().locator(".rsc-plain")).toHaveCount(0);
  await shot(page, info, "vite-app");
});

test("the Vite app on a French page gets the widget's French texts from the package", async ({ page, stack }) => {
  stack.copyDir(path.join(EXAMPLES, "vite-app/dist/assets"), "assets");
  const html = readFileSync(path.join(EXAMPLES, "vite-app/dist/index.html"), "utf8").replace('<html lang="en">', '<html lang="fr">');
  const missing: string[] = [];
  page.on("response", (r) => r.status() >= 400 && !r.url().endsWith("/favicon.ico") && missing.push(r.url()));
  await page.goto(stack.writePage("vite-fr.html", html));
  await expect(page.locator("#status")).toHaveText("The assistant is ready.");
  await page.getByRole("button", { name: "Ouvrir le chat" }).click();
  await expect(page.getByRole("dialog").getByRole("button", { name: "Envoyer" })).toBeVisible();
  expect(missing).toEqual([]);
});

test("the inline help panel fills its container, knows the page, and answers the host's button", async ({ page, stack }, info) => {
  // The example loads /ringside-chat.js and /help-panel.js from its site's root.
  stack.writePage("help-panel.js", readFileSync(path.join(EXAMPLES, "help-panel/help-panel.js"), "utf8"));
  await page.goto(stack.writePage("billing.html", readFileSync(path.join(EXAMPLES, "help-panel/index.html"), "utf8")));
  const panel = page.getByRole("dialog", { name: "Help" });
  await expect(panel).toBeVisible();
  await expect(page.getByRole("button", { name: "Open chat" }), "inline: no launcher").toHaveCount(0);
  await expect(panel.getByRole("button", { name: "Close chat" })).toHaveCount(0);
  const aside = await page.locator("#help").boundingBox();
  const box = await panel.boundingBox();
  expect(Math.abs(box!.width - aside!.width)).toBeLessThan(2);
  expect(Math.abs(box!.height - aside!.height)).toBeLessThan(2);

  await page.getByRole("button", { name: "Ask about this page" }).click();
  const widget = new Widget(page);
  await expect(widget.questions()).toHaveText(["Explain this page to me."]);
  await widget.idle();
  const chats = (await stack.log()).filter((r) => r.path.endsWith("/chat/completions"));
  expect(chats[0].body.messages[0].role, JSON.stringify(chats[0].body)).toBe("system");
  // The context, quoted (see trust.spec.ts): the third line, one JSON string.
  expect(JSON.parse(chats[0].body.messages[0].content.split("\n")[2])).toContain('"page":"billing"');
  await shot(page, info, "inline-help-panel");
});

test("the custom element mounts inline and its attributes are live", async ({ page, stack }) => {
  await page.goto(
    stack.writePage(
      "element.html",
      `<!doctype html><html lang="en"><head><script src="/ringside-chat.js"></script></head><body>
       <ringside-chat token-endpoint="/api/chat-token" mode="inline" title="First title" style="height:500px"></ringside-chat></body></html>`,
    ),
  );
  await expect(page.getByRole("dialog", { name: "First title" })).toBeVisible();
  const widget = new Widget(page);
  await widget.ask("Before the change");
  await page.locator("ringside-chat").evaluate((el) => el.setAttribute("title", "Second title"));
  await expect(page.getByRole("dialog", { name: "Second title" })).toBeVisible();
  await expect(page.getByRole("dialog")).toHaveCount(1);
  await expect(widget.questions(), "the conversation survives the change").toHaveText(["Before the change"]);
});

test("a hostile host stylesheet changes nothing inside the widget", async ({ page, stack }) => {
  const open = async (head: string) => {
    await stack.hostPage(page, { title: "Styled" }, head);
    const widget = new Widget(page);
    await widget.open();
    await expect(widget.input()).toBeFocused();
    await page.mouse.move(0, 0);
    return page.locator("[data-ringside-chat]").screenshot({ animations: "disabled", caret: "hide" });
  };
  const clean = await open("");
  const hostile = await open(
    `<style>* { all: unset !important; } button { display: none !important; } html { font-size: 40px !important; }
     body { font: 40px/3 serif !important; color: red !important; } div { position: static !important; transform: scale(2) !important }</style>`,
  );
  expect(hostile.equals(clean), "the widget looks the same, pixel for pixel").toBe(true);
});

/** A host page with `policy` as its Content-Security-Policy, and what the browser refused on it. */
async function strictPage(page: Page, stack: Stack, name: string, policy: (cdn: string) => string[]) {
  const violations: string[] = [];
  page.on("console", (m) => m.text().includes("Content Security Policy") && violations.push(m.text()));
  const cdn = await stack.cdn();
  const html = `<!doctype html><html lang="en"><head><meta http-equiv="Content-Security-Policy" content="${policy(cdn).join("; ")}">
    <script src="${cdn}/ringside-chat.js" data-token-endpoint="/api/chat-token" data-title="Strict"></script></head>
    <body><p>Strict page</p></body></html>`;
  await page.goto(stack.writePage(name, html));
  return violations;
}

const STRICT = (stack: Stack, cdn: string) => [
  "default-src 'none'",
  `script-src ${cdn} 'wasm-unsafe-eval'`,
  `connect-src ${cdn} ${stack.mintUrl} ${stack.mockUrl}`,
  "img-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
];

test("a page with a strict Content-Security-Policy works, and the answer is read off the page's main thread", async ({ page, stack }) => {
  // The answer's batches, as the worker hands them over: decoded text
  // (src/decoder.rs: it runs the widget's own wasm, which the policy allows),
  // or bytes for the page to decode.
  await countWorkers(page);
  const violations = await strictPage(page, stack, "csp.html", (cdn) => [...STRICT(stack, cdn), "worker-src blob:"]);
  const widget = new Widget(page);
  await widget.open();
  await widget.ask("Does CSP allow this?");
  await expect(widget.answers()).toHaveCount(1);
  await expect(widget.answers().last()).not.toContainText("Not sent");
  // The answers chunk came from the assets origin too (never the fallback).
  await expect(widget.answers().last().locator(".rsc-msg__body > .rsc-volume > .rsc-chunk")).not.toHaveCount(0);
  await expect(widget.log().locator(".rsc-plain")).toHaveCount(0);
  expect(violations).toEqual([]);
  expect(page.workers(), "the stream was read by the widget's worker").toHaveLength(1);
  const batches = await workerCounts(page);
  expect(batches.bytes, "no batch of bytes for the page to decode").toBe(0);
  expect(batches.texts, "the worker decoded the answer").toBeGreaterThan(0);
});

test("a page whose policy allows no worker: the answer still streams whole, read on the page's thread", async ({ page, stack }) => {
  const violations = await strictPage(page, stack, "csp-no-worker.html", (cdn) => STRICT(stack, cdn));
  const widget = new Widget(page);
  await widget.open();
  await widget.ask("And without a worker?");
  const answer = await expectedAnswer(stack, "And without a worker?");
  expect(words(await widget.answers().last().locator(".rsc-msg__body").innerText())).toBe(words(answer));
  await widget.ask("Still here?");
  await expect(widget.answers()).toHaveCount(2);
  await expect(widget.answers().last()).not.toContainText("Not sent");
  const chats = (await stack.log()).filter((r) => r.path.endsWith("/chat/completions") && r.auth == "client");
  expect(chats, "each question went once").toHaveLength(2);
  expect(page.workers()).toHaveLength(0);
  expect(violations.length, "the browser refused the worker, once").toBe(1);
  expect(violations[0]).toContain("worker");
});

test("two widgets on one page never interfere", async ({ page, stack }) => {
  // Both open at once, so a new visitor's two first token requests would
  // race (each made a new customer, and one conversation lost on reload)
  // if the page's widgets did not take turns.
  await page.goto(
    stack.writePage(
      "two.html",
      `<!doctype html><html lang="en"><head><script src="/ringside-chat.js" data-token-endpoint="/api/chat-token" data-title="Floating" data-open="true"></script></head>
       <body><div id="side" style="height:480px;width:360px"></div>
       <script>addEventListener("load", () => RingsideChat.mount({ mode: "inline", container: "#side", title: "Inline" }).then((h) => (window.inline = h)));</script></body></html>`,
    ),
  );
  const floating = page.getByRole("dialog", { name: "Floating" });
  const inline = page.getByRole("dialog", { name: "Inline" });
  await expect(inline).toBeVisible();
  await expect(floating).toBeVisible();
  await inline.getByRole("textbox", { name: "Message" }).fill("to inline");
  await inline.getByRole("textbox", { name: "Message" }).press("Enter");
  await floating.getByRole("textbox", { name: "Message" }).fill("to floating");
  await floating.getByRole("textbox", { name: "Message" }).press("Enter");
  await expect(inline.getByRole("log")).toHaveAttribute("aria-busy", "false", { timeout: 15_000 });
  await expect(floating.getByRole("log")).toHaveAttribute("aria-busy", "false", { timeout: 15_000 });
  await expect(inline.locator("article[aria-label=You]")).toHaveText(["to inline"]);
  await expect(floating.locator("article[aria-label=You]")).toHaveText(["to floating"]);
  await page.reload();
  await expect(page.getByRole("dialog", { name: "Inline" }).locator("article[aria-label=You]")).toHaveText(["to inline"]);
  await expect(page.getByRole("dialog", { name: "Floating" }).locator("article[aria-label=You]")).toHaveText(["to floating"]);
});

test("destroy() leaves no element, listener, timer or worker behind", async ({ page, stack }) => {
  // Count timers the page starts and clears, from before the widget exists.
  await page.addInitScript(() => {
    const w = window as any;
    w.__timers = new Set();
    const track = (set: string, clear: string) => {
      const s = w[set].bind(w);
      const c = w[clear].bind(w);
      w[set] = (f: any, ...rest: any[]) => {
        const id = s((...a: any[]) => {
          w.__timers.delete(`${set}:${id}`);
          typeof f === "function" && f(...a);
        }, ...rest);
        w.__timers.add(`${set}:${id}`);
        return id;
      };
      w[clear] = (id: any) => {
        w.__timers.delete(`${set}:${id}`);
        c(id);
      };
    };
    track("setTimeout", "clearTimeout");
    track("setInterval", "clearInterval");
    track("requestIdleCallback", "cancelIdleCallback");
  });
  await page.goto(stack.writePage("plain.html", `<!doctype html><html lang="en"><head><script src="/ringside-chat.js"></script></head><body><p>x</p></body></html>`));
  const cdp = await page.context().newCDPSession(page);
  const listeners = async () => {
    let count = 0;
    for (const expression of ["window", "document"]) {
      const { result } = await cdp.send("Runtime.evaluate", { expression });
      const { listeners } = await cdp.send("DOMDebugger.getEventListeners", { objectId: result.objectId! });
      count += listeners.length;
    }
    return count;
  };
  const before = { elements: await page.evaluate(() => document.querySelectorAll("*").length), listeners: await listeners() };
  await page.evaluate(async () => {
    const w = window as any;
    w.h = await w.RingsideChat.mount({ tokenEndpoint: "/api/chat-token", title: "Temp" });
    await w.h.open();
    await w.h.send("use me");
  });
  const widget = new Widget(page);
  await widget.idle();
  expect(page.workers(), "the answer was read by the widget's worker").toHaveLength(1);
  await page.evaluate(() => (window as any).h.destroy());
  await page.waitForTimeout(1200);
  expect(page.workers(), "and it went with the widget").toHaveLength(0);
  expect(await page.evaluate(() => document.querySelectorAll("*").length)).toBe(before.elements);
  expect(await listeners()).toBe(before.listeners);
  expect(await page.evaluate(() => [...(window as any).__timers])).toEqual([]);
});

test("below 480 px the panel takes the whole screen", async ({ page, stack }, info) => {
  await page.setViewportSize({ width: 390, height: 760 });
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  const box = (await widget.dialog().boundingBox())!;
  expect(box.x).toBe(0);
  expect(box.y).toBe(0);
  expect(box.width).toBe(390);
  expect(box.height).toBe(760);
  await widget.ask("From my phone");
  await shot(page, info, "mobile-full-screen");
});

test("dark theme, left position and a right-to-left page", async ({ page, stack }, info) => {
  await stack.hostPage(page, { theme: "dark", position: "left", dir: "rtl", strings: '{"send":"أرسل","openChat":"افتح الدردشة"}' });
  await page.getByRole("button", { name: "افتح الدردشة" }).click();
  const widget = new Widget(page);
  await expect(widget.dialog()).toBeVisible();
  const box = (await widget.dialog().boundingBox())!;
  expect(box.x, "the panel sits on the left").toBeLessThan(100);
  await expect(widget.dialog().getByRole("button", { name: "أرسل" })).toBeVisible();
  expect(await page.locator("[data-ringside-chat]").getAttribute("dir")).toBe("rtl");
  const background = await widget.dialog().evaluate((el) => getComputedStyle(el).backgroundColor);
  expect(background).toBe("rgb(17, 24, 39)");
  await widget.input().fill("مرحبا");
  await widget.input().press("Enter");
  await widget.idle();
  const q = (await widget.questions().first().boundingBox())!;
  const a = (await widget.answers().first().boundingBox())!;
  expect(q.x, "in RTL the user's message sits on the left").toBeLessThan(a.x);
  await shot(page, info, "dark-left-rtl");
});

test("bad options give one clear console error and sane defaults", async ({ page, stack }) => {
  const errors: string[] = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await stack.hostPage(page, { theme: "purple", position: "middle", "max-length": "-1", bogus: "1" });
  const widget = new Widget(page);
  await widget.open();
  await widget.ask("Works anyway?");
  expect(errors.join("\n")).toContain("theme");
  expect(errors.join("\n")).toContain("position");
  expect(errors.join("\n")).toContain("maxLength");
});
