// Issue 17, "Across tabs": two tabs of the same site with `persist: local`
// share the conversation. A question is sent by the tab it was typed in, and
// only there; the other tab shows it at once, the answer as arriving in
// another tab, then the answer whole when it is done. Two tabs sending at
// once never send a question twice nor write over each other's messages
// (one storage key per message, each written by the tab that changed it).
import type { Page } from "@playwright/test";

import { test, expect, Widget, VISITOR_COOKIE, type Stack } from "./stack";

test.use({ mockFlags: ["--first-token-delay-ms", "300", "--token-delay-ms", "20", "--answer-tokens", "60"] });

/** How many chat requests the widget made whose question is `text`. */
async function timesAsked(stack: Stack, text: string): Promise<number> {
  return (await stack.log()).filter(
    (r) => r.path == "/v1/chat/completions" && r.auth == "client" && r.body.messages.at(-1).content == text,
  ).length;
}

/** What a tab shows: each message's text, in order. */
async function transcript(widget: Widget): Promise<string[]> {
  return widget.log().locator("article .rsc-msg__body").allInnerTexts();
}

async function twoTabs(page: Page, stack: Stack): Promise<[Widget, Widget]> {
  await stack.hostPage(page, { persist: "local" });
  const second = await page.context().newPage();
  await second.goto(page.url());
  const [a, b] = [new Widget(page), new Widget(second)];
  await a.open();
  // One visitor in both tabs: the second asks for its token once the first
  // tab's has made the visitor known (the mint's cookie). Two first requests
  // at once are two new visitors, each with a conversation of its own: a CI
  // run had the second tab's request leave before the first one's answer.
  await expect.poll(async () => (await page.context().cookies()).some((c) => c.name === VISITOR_COOKIE)).toBe(true);
  await b.open();
  return [a, b];
}

test("a question sent in one tab appears in the other, its answer arriving there, then whole; it is asked once", async ({ page, stack }) => {
  const [a, b] = await twoTabs(page, stack);
  await a.send("Which plan fits a small team?");
  await expect(b.questions()).toHaveText(["Which plan fits a small team?"]);
  await expect(b.log().getByRole("status").filter({ hasText: "Answering in another tab" })).toHaveCount(1);
  await expect(b.log()).toHaveAttribute("aria-busy", "true");
  await a.idle();
  await b.idle();
  expect(await transcript(b)).toEqual(await transcript(a));
  expect((await transcript(b))[1].length, "the whole answer").toBeGreaterThan(100);
  expect(await timesAsked(stack, "Which plan fits a small team?")).toBe(1);
});

test("two tabs sending at once: both questions in both tabs, in the same order, each asked once, nothing written over", async ({ page, stack }) => {
  const [a, b] = await twoTabs(page, stack);
  await Promise.all([a.send("Question from the first tab"), b.send("Question from the second tab")]);
  for (const widget of [a, b]) {
    await expect(widget.questions()).toHaveCount(2);
    await expect(widget.answers()).toHaveCount(2);
  }
  await a.idle();
  await b.idle();
  const shown = await transcript(a);
  expect(shown).toHaveLength(4);
  expect(await transcript(b), "the same conversation in both tabs").toEqual(shown);
  expect(shown.filter((t) => t.startsWith("Question from"))).toHaveLength(2);
  expect(await timesAsked(stack, "Question from the first tab")).toBe(1);
  expect(await timesAsked(stack, "Question from the second tab")).toBe(1);
  // What each tab wrote is all stored: a new tab shows the four messages too.
  const third = await page.context().newPage();
  await third.goto(page.url());
  const c = new Widget(third);
  await c.open();
  await expect(c.answers()).toHaveCount(2);
  expect(await transcript(c)).toEqual(shown);
});

test("New conversation in one tab starts it over in the other too", async ({ page, stack }) => {
  const [a, b] = await twoTabs(page, stack);
  await a.ask("Something to forget");
  await expect(b.answers()).toHaveCount(1);
  await b.idle();
  await b.button("New conversation").click();
  await expect(a.questions()).toHaveCount(0);
  await a.ask("A new start");
  await expect(b.questions()).toHaveText(["A new start"]);
});
