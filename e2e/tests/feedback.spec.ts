// Issue 17, "Feedback on answers": thumbs up or down under each finished
// answer, then an optional short reason, all by keyboard; a `feedback` event
// with the question, the answer and the conversation id; a POST to the
// host's feedbackEndpoint (the mint's --feedback route, which logs and counts
// it); and the rating still shown after a reload. The reason is the
// visitor's own text: sent as data, never shown as markup.
import type { Page } from "@playwright/test";

import { test, expect, CHUNK, Widget } from "./stack";

test.use({ mintSetup: { flags: ["--feedback"] } });

/** Collects the widget's `feedback` events in the page. */
async function listen(page: Page): Promise<void> {
  await page.evaluate(() =>
    (window as any).RingsideChat.ready.then((handle: any) =>
      handle.on("feedback", (detail: unknown) => ((window as any).__feedback ||= []).push(detail)),
    ),
  );
}

const events = (page: Page) => page.evaluate(() => (window as any).__feedback || []);

test("an answer rated down by keyboard, with a reason: the event, the POST the mint counts, and the rating after a reload", async ({ page, stack }) => {
  await stack.hostPage(page, { "feedback-endpoint": "/api/chat-feedback" });
  await listen(page);
  const widget = new Widget(page);
  await widget.open();
  await widget.ask("How much is the Pro plan?");
  const answer = widget.answers().last();
  const down = answer.getByRole("button", { name: "Not helpful" });
  const up = answer.getByRole("button", { name: "Helpful", exact: true });
  await expect(down).toHaveAttribute("aria-pressed", "false");

  await down.focus();
  await page.keyboard.press("Enter");
  await expect(down).toHaveAttribute("aria-pressed", "true");
  await expect(up).toHaveAttribute("aria-pressed", "false");
  const reason = answer.getByRole("textbox", { name: "Tell us why (optional)" });
  await expect(reason, "the reason's field takes the focus").toBeFocused();
  await page.keyboard.type("The <b>price</b> is out of date");
  await page.keyboard.press("Enter");
  await expect(answer.getByRole("status")).toHaveText("Thanks for your feedback.");
  await expect(widget.input(), "Enter in the reason does not send a message").toHaveValue("");
  await expect(widget.questions()).toHaveCount(1);

  const told = await events(page);
  expect(told).toHaveLength(2);
  const text = await answer.locator(".rsc-msg__body").innerText();
  expect(told[0]).toMatchObject({ kind: "rating", rating: "down", reason: "", message: "How much is the Pro plan?" });
  expect(told[1]).toMatchObject({ kind: "reason", rating: "down", reason: "The <b>price</b> is out of date" });
  expect(told[1].answer.split(/\s+/).join(" ")).toBe(text.split(/\s+/).join(" "));
  expect(told[1].conversationId).toBe(told[0].conversationId);
  expect(told[1].messageId).toBe(told[0].messageId);

  await expect
    .poll(async () => (await (await fetch(`${stack.mintUrl}/metrics`)).text()).match(/feedback_(total\{rating="down"\}|reasons_total) \d+/g))
    .toEqual(['feedback_total{rating="down"} 1', "feedback_reasons_total 1"]);

  await page.reload();
  await widget.open();
  await expect(widget.answers().last().getByRole("button", { name: "Not helpful" })).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByText("The <b>price</b> is out of date"), "the reason is never shown").toHaveCount(0);
});

test("Escape declines to say why; changing the rating tells the host again", async ({ page, stack }) => {
  await stack.hostPage(page);
  await listen(page);
  const widget = new Widget(page);
  await widget.open();
  await widget.ask("Hello");
  const answer = widget.answers().last();
  await answer.getByRole("button", { name: "Helpful", exact: true }).click();
  const reason = answer.getByRole("textbox", { name: "Tell us why (optional)" });
  await expect(reason).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(reason).toHaveCount(0);
  await expect(widget.dialog(), "Escape in the reason does not close the panel").toBeVisible();
  await answer.getByRole("button", { name: "Not helpful" }).click();
  const told = await events(page);
  expect(told.map((e: any) => [e.kind, e.rating])).toEqual([["rating", "up"], ["rating", "down"]]);
});

test("a restored answer comes with the chunk that shows it: rendered, with its rating buttons", async ({ page, stack }) => {
  await stack.hostPage(page);
  const widget = new Widget(page);
  await widget.open();
  await widget.ask("Hello");
  await expect(widget.answers().last().locator(".rsc-rate")).toHaveCount(2);

  // The next page gets the chunk only when the test lets it.
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route(CHUNK, async (route) => {
    await held;
    await route.continue();
  });
  await page.reload();
  await widget.open();
  // The chunk reads the stored conversation: nothing of it shows before.
  await page.waitForTimeout(300);
  await expect(widget.questions()).toHaveCount(0);

  release();
  const answer = widget.answers().last();
  await expect(answer.locator(".rsc-rate")).toHaveCount(2);
  await expect(answer.getByRole("button", { name: "Helpful", exact: true })).toHaveAttribute("aria-pressed", "false");
  await expect(answer.locator(".rsc-plain"), "and the answer is rendered").toHaveCount(0);
});
