// Issue 17, "Across pages, mid-answer": a visitor who clicks to another page
// of the site while an answer streams finds it finished on the next page.
// The page going away (pagehide) keeps the answer's text so far; the next
// page of the tab, soon enough and with the token still good, continues it
// (the partial text as the model's own last message, so the mock sends the
// rest of the same answer); later, it shows the answer interrupted, with
// Continue and Retry. The question is never sent twice.
import type { Page } from "@playwright/test";

import { test, expect, expectedAnswer, CHUNK, Widget, type Stack } from "./stack";

// Long answers (300 tokens at 15 ms: about 4.5 s of streaming).
test.use({ mockFlags: ["--first-token-delay-ms", "100", "--token-delay-ms", "15", "--answer-tokens", "300"] });

const words = (text: string) => text.split(/\s+/).filter(Boolean).join(" ");
const sentences = (text: string) => words(text).split(/(?<=\.) /);

/** The messages of each chat request the widget made (not the test's own). */
async function chats(stack: Stack): Promise<{ role: string; content: string }[][]> {
  return (await stack.log()).filter((r) => r.path == "/v1/chat/completions" && r.auth == "client").map((r) => r.body.messages);
}

async function answerText(widget: Widget): Promise<string> {
  return widget.answers().last().locator(".rsc-msg__body").innerText();
}

/** Asks `question` and leaves the page (for `next`, another page of the
 * site) once `fraction` of the answer is on screen; returns what was shown. */
async function leaveMidAnswer(page: Page, stack: Stack, question: string, expected: string, fraction: number, next: () => Promise<unknown>): Promise<string> {
  await stack.hostPage(page);
  const widget = new Widget(page);
  await widget.open();
  await widget.send(question);
  // Looked at every 50 ms (the default intervals grow to a second, which
  // late in the answer is longer than what is left of it).
  await expect
    .poll(async () => words(await answerText(widget)).length, { timeout: 15_000, intervals: [50] })
    .toBeGreaterThan(words(expected).length * fraction);
  const shown = words(await answerText(widget));
  expect(expected.startsWith(shown.slice(0, 20)), "the answer was streaming").toBe(true);
  expect(shown.length, "and had not ended").toBeLessThan(words(expected).length);
  await next();
  return shown;
}

test("navigating at a random point of a long answer: the next page ends it whole, no sentence doubled or missing, the question asked once", async ({ page, stack }) => {
  const question = "Walk me through the whole setup";
  const expected = await expectedAnswer(stack, question);
  // Up to 80 %: a second or more of the answer is left to leave in.
  const fraction = 0.1 + Math.random() * 0.7;
  console.log(`leaving after ${Math.round(fraction * 100)} % of the answer`);
  const shown = await leaveMidAnswer(page, stack, question, expected, fraction, () => stack.hostPage(page));

  // The next page continues by itself (the panel is closed: it reports an unread answer).
  const widget = new Widget(page);
  await expect(page.getByRole("button", { name: /1 unread/ })).toBeVisible({ timeout: 15_000 });
  await widget.open();
  await widget.idle();
  const final = await answerText(widget);
  expect(words(final), "the whole answer, exactly").toBe(words(expected));
  expect(sentences(final), "no sentence doubled or missing").toEqual(sentences(expected));
  expect(words(final).startsWith(shown), "what was shown stays as it was").toBe(true);
  await expect(widget.questions()).toHaveText([question]);
  await expect(widget.answers()).toHaveCount(1);
  await expect(widget.answers().last()).not.toContainText("You left the page");

  const sent = await chats(stack);
  const asked = sent.filter((m) => m.at(-1)!.role == "user");
  expect(asked.length, "the question was sent once").toBe(1);
  const continued = sent.filter((m) => m.at(-1)!.role == "assistant");
  expect(continued.length, "then continued once").toBe(1);
  expect(continued[0].at(-2)).toEqual({ role: "user", content: question });
  expect(expected.startsWith(continued[0].at(-1)!.content), "from the partial answer").toBe(true);
});

test("coming back too late: the answer shows it was cut by leaving, and Continue finishes it without asking again", async ({ page, stack }) => {
  const question = "Explain the billing";
  const expected = await expectedAnswer(stack, question);
  // To a page without the widget first; the next page with it comes 20 s
  // later (the note the last page left is aged).
  await leaveMidAnswer(page, stack, question, expected, 0.3, () => page.goto(stack.writePage("plain.html", "<!doctype html><title>Plain</title><p>A page without the chat.")));
  await page.evaluate(() => {
    for (const key of Object.keys(sessionStorage).filter((k) => k.endsWith("~continue"))) {
      const note = JSON.parse(sessionStorage.getItem(key)!);
      note.at -= 20_000;
      sessionStorage.setItem(key, JSON.stringify(note));
    }
  });
  await stack.hostPage(page);
  const widget = new Widget(page);
  await widget.open();
  const answer = widget.answers().last();
  await expect(answer).toContainText("You left the page during this answer.");
  await expect(answer.getByRole("button", { name: "Retry" })).toBeVisible();
  await page.waitForTimeout(1000);
  expect((await chats(stack)).length, "nothing was asked by itself").toBe(1);

  await answer.getByRole("button", { name: "Continue" }).click();
  await widget.idle();
  expect(words(await answerText(widget))).toBe(words(expected));
  const sent = await chats(stack);
  expect(sent.map((m) => m.at(-1)!.role), "the question once, then its continuation").toEqual(["user", "assistant"]);
  await expect(widget.questions()).toHaveText([question]);
});

/** A 40-word answer whose stream breaks off after 12 words (the mock's
 * next answer, its continuation, has the rest); returns it, shown cut. */
async function cutAnswer(page: Page, stack: Stack) {
  await stack.script({ token_count: 40, token_delay_ms: 5, fault: { kind: "drop", after: 12 } }, { token_count: 40 });
  await stack.hostPage(page);
  const widget = new Widget(page);
  await widget.open();
  await widget.ask("Tell me");
  const answer = widget.answers().last();
  await expect(answer).toContainText("The answer was interrupted.");
  return { widget, answer, partial: words(await answerText(widget)) };
}

/** Continues the cut answer, which must end whole from where it stopped. */
async function continueIt({ widget, answer, partial }: Awaited<ReturnType<typeof cutAnswer>>) {
  await answer.getByRole("button", { name: "Continue" }).click();
  await widget.idle();
  const final = words(await answerText(widget));
  expect(final.startsWith(partial), "the partial text stays").toBe(true);
  expect(final.split(" ").length, "and the rest of the 40 words follows").toBe(40);
}

test("a stream that broke off can be continued too, where it stopped", async ({ page, stack }) => {
  await continueIt(await cutAnswer(page, stack));
});

test("Continue comes with the answers chunk: while it cannot be fetched a cut answer offers Retry, and Continue once it loads", async ({ page, stack }) => {
  await page.route(CHUNK, (route) => route.abort("connectionfailed"));
  const cut = await cutAnswer(page, stack);
  await expect(cut.answer.getByRole("button", { name: "Retry" })).toBeVisible();
  await expect(cut.answer.getByRole("button", { name: "Continue" }), "continuing needs the chunk").toHaveCount(0);

  // The chunk can be had again; the panel opened again tries it.
  await page.unroute(CHUNK);
  await cut.widget.button("Close chat").click();
  await cut.widget.open();
  await continueIt(cut);
  const sent = await chats(stack);
  expect(sent.map((m) => m.at(-1)!.role), "the question once, then its continuation").toEqual(["user", "assistant"]);
});
