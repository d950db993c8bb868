// Issue #2, the walking skeleton: a visitor opens the chat, sends a message
// and watches the answer stream in, token by token, from the mock gateway.
import { test, expect, Widget, expectedAnswer } from "./stack";

test("a visitor's question is answered in visible steps, ending in the mock's exact answer", async ({ page, stack }) => {
  const question = "What rockets do you sell?";
  const answer = await expectedAnswer(stack, question);
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);

  await widget.open();
  await expect(widget.dialog()).toHaveAccessibleName("Ask Acme");
  await expect(widget.input()).toBeFocused();

  // Record every distinct text the answer shows, frame by frame, from the page itself.
  await page.evaluate(() => {
    const w = window as unknown as { __seen: string[] };
    w.__seen = [];
    const root = document.querySelector("[data-ringside-chat]")!.shadowRoot!;
    const watch = () => {
      const bodies = root.querySelectorAll(".rsc-msg--assistant .rsc-msg__body");
      const text = bodies.length ? (bodies[bodies.length - 1] as HTMLElement).innerText : "";
      if (text && w.__seen[w.__seen.length - 1] !== text) w.__seen.push(text);
      requestAnimationFrame(watch);
    };
    watch();
  });

  await widget.send(question);
  await expect(widget.log().getByText(question)).toBeVisible();
  await expect(widget.log()).toContainText(answer.slice(-40), { timeout: 15_000 });

  const seen = await page.evaluate(() => (window as unknown as { __seen: string[] }).__seen);
  expect(seen.length, `the answer appeared in ${seen.length} step(s); streaming shows several`).toBeGreaterThanOrEqual(2);
  for (let i = 1; i < seen.length; i++) {
    expect(seen[i].startsWith(seen[i - 1]), "each step only appends to the text before it").toBe(true);
  }
  expect(seen[seen.length - 1]).toBe(answer);
  await expect(widget.input(), "the box is empty and ready for the next question").toHaveValue("");
});
