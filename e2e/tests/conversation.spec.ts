// Issue #5: the conversation as a user lives it: streaming markdown, stop,
// regenerate, copy, a new conversation, the welcome and its suggestions,
// memory across reloads, the unread badge and following new text.
import type { Locator, Page } from "@playwright/test";

import { test, expect, CHUNK, Widget, belowView, expectedAnswer, type Stack } from "./stack";

test("a markdown answer renders as real elements, with a copyable code block and safe links", async ({ page, stack, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await stack.script({
    text: "## Steps\n\n1. **Install** the `cli`\n2. Run it, see [docs](https://example.com/docs)\n\n```sh\nrocket launch --now\n```\n\n> Done *quickly*.",
    token_delay_ms: 2,
  });
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await widget.ask("How do I launch?");
  const answer = widget.answers().last();
  await expect(answer.getByRole("heading", { name: "Steps" })).toBeVisible();
  await expect(answer.locator("ol > li")).toHaveCount(2);
  await expect(answer.locator("strong")).toHaveText("Install");
  await expect(answer.locator("li code")).toHaveText("cli");
  const link = answer.getByRole("link", { name: "docs" });
  await expect(link).toHaveAttribute("href", "https://example.com/docs");
  await expect(link).toHaveAttribute("rel", "noopener noreferrer nofollow");
  await expect(link).toHaveAttribute("target", "_blank");
  await expect(answer.locator("pre code")).toHaveText("rocket launch --now");
  await expect(answer.locator("blockquote em")).toHaveText("quickly");

  await answer.getByRole("button", { name: "Copy code" }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe("rocket launch --now");
  await answer.getByRole("button", { name: "Copy message" }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toContain("1. **Install** the `cli`");
});

test("stop keeps the partial answer, marks it stopped, and the next question works", async ({ page, stack }) => {
  await stack.script({ token_count: 400, token_delay_ms: 20, first_token_delay_ms: 0 });
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await widget.send("Tell me a long story");
  const answer = widget.answers().last();
  await expect(answer.locator(".rsc-msg__body")).not.toBeEmpty();
  await page.waitForTimeout(300);
  await widget.button("Stop").click();
  await widget.idle();
  await expect(answer).toContainText("Stopped.");
  const partial = await answer.locator(".rsc-msg__body").innerText();
  expect(partial.length).toBeGreaterThan(0);
  await page.waitForTimeout(300);
  expect(await answer.locator(".rsc-msg__body").innerText(), "nothing arrives after Stop").toBe(partial);

  await widget.ask("And now?");
  await expect(widget.answers()).toHaveCount(2);
  await expect(widget.answers().last()).not.toContainText("Stopped.");
});

test("regenerate replaces the last answer with a new one", async ({ page, stack }) => {
  await stack.script({ text: "First answer." }, { text: "Second answer." });
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await widget.ask("Question");
  await expect(widget.answers().last()).toContainText("First answer.");
  await widget.answers().last().getByRole("button", { name: "Regenerate answer" }).click();
  await widget.idle();
  await expect(widget.answers()).toHaveCount(1);
  await expect(widget.answers().last()).toContainText("Second answer.");
  await expect(widget.questions()).toHaveCount(1);
  const chats = (await stack.log()).filter((r) => r.path.endsWith("/chat/completions"));
  expect(chats.map((r) => r.body.messages.length), "the regenerated request repeats the same history").toEqual([1, 1]);
});

test("the welcome and its suggested prompts start a conversation, and New conversation starts over", async ({ page, stack }) => {
  await stack.hostPage(page, { welcome: "Hello from Acme!", suggestions: "What does it cost? | Where are the docs?" });
  const widget = new Widget(page);
  await widget.open();
  await expect(widget.log()).toContainText("Hello from Acme!");
  await widget.log().getByRole("button", { name: "Where are the docs?" }).click();
  await widget.idle();
  await expect(widget.questions()).toHaveText(["Where are the docs?"]);
  await expect(widget.log()).not.toContainText("Hello from Acme!");
  await widget.button("New conversation").click();
  await expect(widget.questions()).toHaveCount(0);
  await expect(widget.log()).toContainText("Hello from Acme!");
  await expect(widget.input()).toBeFocused();
});

test("the conversation survives a reload and the next question carries its history", async ({ page, stack }) => {
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await widget.ask("First question");
  const answer = await expectedAnswer(stack, "First question");
  await page.reload();
  await widget.open();
  await expect(widget.questions()).toHaveText(["First question"]);
  await expect(widget.answers().last()).toContainText(answer.slice(0, 30));
  await widget.ask("Second question");
  const chats = (await stack.log()).filter((r) => r.path.endsWith("/chat/completions"));
  expect(chats.at(-1)!.body.messages.map((m: any) => m.role)).toEqual(["user", "assistant", "user"]);
});

/** The messages of each chat request the widget made. */
async function chats(stack: Stack): Promise<{ role: string; content: string }[][]> {
  return (await stack.log()).filter((r) => r.path == "/v1/chat/completions" && r.auth == "client").map((r) => r.body.messages);
}

/** Holds the answers chunk of the next page until the returned function is called. */
async function holdChunk(page: Page): Promise<() => void> {
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route(CHUNK, async (route) => {
    await held;
    await route.continue();
  });
  return release;
}

/**
 * A first exchange, then a reload whose answers chunk is held, and a second
 * question sent before it comes: the widget, and how to let the chunk go.
 */
async function askAgainWithChunkHeld(page: Page, stack: Stack) {
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await widget.ask("First question");
  const release = await holdChunk(page);
  await page.reload();
  await widget.open();
  await widget.send("Second question");
  return { widget, release };
}

// A stored conversation is read and painted by the answers chunk (it is
// not needed to send a first message): the page shows it when the chunk is
// in, and the token waits for it, so nothing is asked without it.
test("a stored conversation shows when the answers chunk arrives, and a question asked before waits for it and carries its history", async ({ page, stack }) => {
  const { widget, release } = await askAgainWithChunkHeld(page, stack);
  await page.waitForTimeout(500);
  expect(await chats(stack), "the question waits for the stored conversation").toHaveLength(1);
  await expect(widget.questions(), "which is not shown yet").toHaveText(["Second question"]);

  release();
  await expect(widget.questions()).toHaveText(["First question", "Second question"]);
  await expect(widget.answers()).toHaveCount(2);
  await widget.idle();
  const sent = await chats(stack);
  expect(sent).toHaveLength(2);
  expect(sent[1].map((m) => m.role), "the history goes with it").toEqual(["user", "assistant", "user"]);
  expect(sent[1][0].content).toBe("First question");
});

test("a stored conversation whose chunk is slow: a question goes after a short wait, and the conversation shows before it when the chunk comes", async ({ page, stack }) => {
  const { widget, release } = await askAgainWithChunkHeld(page, stack);
  // The token waits a few seconds for the chunk, then goes without it.
  await expect.poll(async () => (await chats(stack)).length, { timeout: 10_000 }).toBe(2);
  await widget.idle();
  await expect(widget.questions()).toHaveText(["Second question"]);

  release();
  await expect(widget.questions(), "the stored conversation comes with the chunk").toHaveText(["First question", "Second question"]);
  await expect(widget.answers()).toHaveCount(2);
  await page.unroute(CHUNK);
  await page.reload();
  await widget.open();
  await expect(widget.questions(), "and stays").toHaveText(["First question", "Second question"]);
});

test("without the answers chunk a stored conversation stays stored: what is asked then joins it, and the next page shows it all", async ({ page, stack }) => {
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await widget.ask("First question");

  await page.route(CHUNK, (route) => route.abort("connectionfailed"));
  await page.reload();
  await widget.open();
  await widget.ask("Second question");
  await expect(widget.questions()).toHaveText(["Second question"]);
  await expect(widget.answers()).toHaveCount(1);

  await page.unroute(CHUNK);
  await page.reload();
  await widget.open();
  await expect(widget.questions(), "nothing stored was lost").toHaveText(["First question", "Second question"]);
  await expect(widget.answers()).toHaveCount(2);
});

test("with persist none, a reload starts empty", async ({ page, stack }) => {
  await stack.hostPage(page, { persist: "none" });
  const widget = new Widget(page);
  await widget.open();
  await widget.ask("Remember me?");
  await page.reload();
  await widget.open();
  await expect(widget.questions()).toHaveCount(0);
});

test("an answer that finishes while the panel is closed shows an unread badge", async ({ page, stack }) => {
  await stack.script({ token_count: 30, token_delay_ms: 30 });
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await widget.send("Answer while I look away");
  await page.keyboard.press("Escape");
  await expect(widget.dialog()).toBeHidden();
  await expect(widget.launcher(), "Escape returns focus to the launcher").toBeFocused();
  await expect(page.getByRole("button", { name: "Open chat (1 unread)" })).toBeVisible({ timeout: 10_000 });
  await widget.launcher().click();
  await expect(page.getByRole("button", { name: /unread/ })).toHaveCount(0);
});

/** Scrolls the log to its top (a negative offset: its scroll origin is its end, and browsers clamp). */
const toTop = (log: Element) => log.scrollTo({ top: -log.scrollHeight });

test("new text follows the reader only at the bottom; otherwise Jump to latest appears", async ({ page, stack }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await stack.script({ token_count: 300, token_delay_ms: 15, first_token_delay_ms: 0 });
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await widget.send("Long one please");
  const log = widget.log();
  // It follows while the reader stays at the bottom.
  await expect.poll(() => log.evaluate((el) => el.scrollHeight - el.clientHeight), { timeout: 15_000 }).toBeGreaterThan(300);
  expect(await log.evaluate(belowView)).toBeLessThan(30);
  // The reader scrolls up: the text no longer moves them, and the jump appears.
  await log.evaluate(toTop);
  await expect(widget.button("Jump to latest")).toBeVisible();
  const place = () => widget.questions().first().evaluate((el) => el.getBoundingClientRect().top);
  const at = await place();
  await page.waitForTimeout(300);
  expect(Math.abs((await place()) - at), "the question stays where the reader left it (px)").toBeLessThan(1);
  // Back at the bottom by hand, the jump goes; up again, it comes back.
  await log.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
  await expect(widget.button("Jump to latest")).toBeHidden();
  await log.evaluate(toTop);
  await expect(widget.button("Jump to latest")).toBeVisible();
  await widget.button("Jump to latest").click();
  await expect(widget.button("Jump to latest")).toBeHidden();
  await widget.idle();
  expect(await log.evaluate(belowView)).toBeLessThan(30);
  // A reader who scrolled up and asks again is taken to their question.
  await log.evaluate(toTop);
  await expect.poll(() => log.evaluate(belowView)).toBeGreaterThan(300);
  await stack.script({ token_count: 5, token_delay_ms: 0, first_token_delay_ms: 0 });
  await widget.send("And another");
  await widget.idle();
  expect(await log.evaluate(belowView)).toBeLessThan(30);
});

test("a long answer streams to the end and matches the mock's text", async ({ page, stack }) => {
  await stack.script({ token_count: 3000, token_delay_ms: 0, first_token_delay_ms: 0 });
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await widget.ask("Everything, please");
  expect(await paragraphWords(widget), "every token arrived").toBe(3000);
});

/**
 * How many words the last answer's paragraphs hold, all of them: `innerText`
 * leaves out what the browser skips, and a long answer's blocks far above its
 * end are `content-visibility: auto` (see the next test).
 */
async function paragraphWords(widget: Widget): Promise<number> {
  const text = await widget
    .answers()
    .last()
    .locator(".rsc-msg__body")
    .evaluate((el) => Array.from(el.querySelectorAll("p"), (p) => p.textContent).join("\n"));
  return text.split(/\s+/).filter(Boolean).length;
}

/**
 * Asks for an answer of `tokens` tokens sent at once (the mock's paragraphs
 * of words) and waits for it: the widget, its log and the answer's body.
 */
async function longAnswer(page: Page, stack: Stack, tokens: number) {
  await stack.script({ token_count: tokens, token_delay_ms: 0, first_token_delay_ms: 0 });
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await widget.ask("Everything, please");
  return { widget, log: widget.log(), body: widget.answers().last().locator(".rsc-msg__body") };
}

/**
 * Whether the answer's first (or last) paragraph is laid out:
 * `checkVisibility({contentVisibilityAuto: true})` is false for what the browser skips.
 */
const shown = (body: Locator, which: "first" | "last") =>
  body.evaluate((el, which) => {
    const blocks = el.querySelectorAll("p");
    return blocks[which === "first" ? 0 : blocks.length - 1].checkVisibility({ contentVisibilityAuto: true });
  }, which);

/** The reader goes to the top: the first blocks are laid out and painted there. */
async function toTopShowsFirst(log: Locator, body: Locator) {
  await log.evaluate(toTop);
  await expect.poll(() => shown(body, "first")).toBe(true);
  await expect(body.locator("p").first()).toBeInViewport();
}

test("a long answer's blocks far above its end are not laid out while out of view, and show when the reader scrolls to them", async ({ page, stack }) => {
  // 3,000 tokens at once: about a hundred paragraphs, in groups of 16
  // (src/painter.rs); all but the last two groups are `content-visibility: auto`.
  const { widget, log, body } = await longAnswer(page, stack, 3000);
  expect(await log.evaluate(belowView), "the end is in view").toBeLessThan(30);
  await expect(widget.button("Jump to latest")).toBeHidden();
  expect(await shown(body, "last"), "the end is laid out").toBe(true);
  expect(await shown(body, "first"), "the first blocks, far above the end, are skipped").toBe(false);
  // All of it is in the page all the same: for find-in-page, selection, assistive technology.
  expect(await paragraphWords(widget)).toBe(3000);
  await toTopShowsFirst(log, body);
});

test("a very long answer's groups far above its end are skipped as volumes, and show when the reader scrolls to them", async ({ page, stack }) => {
  // 20,000 tokens at once: about 650 paragraphs, in about 40 groups of 16,
  // in volumes of 8 groups (src/painter.rs); all but the last two volumes
  // are `content-visibility: auto` as a whole.
  const { widget, log, body } = await longAnswer(page, stack, 20000);
  const volumes = await body.locator(":scope > .rsc-volume").count();
  expect(volumes).toBeGreaterThan(3);
  await expect(body.locator(":scope > .rsc-volume--settled")).toHaveCount(volumes - 2);
  await expect(body.locator(":scope > .rsc-volume--settled:nth-last-child(-n+2)"), "the newest two are not").toHaveCount(0);
  expect(await log.evaluate(belowView), "the end is in view").toBeLessThan(30);
  expect(await shown(body, "first"), "the first volume is skipped").toBe(false);
  expect(await paragraphWords(widget)).toBe(20000);
  await toTopShowsFirst(log, body);
});
