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

test("a fast answer comes to the page in about one batch per paint, not one task per token", async ({ page, stack }) => {
  // 400 tokens 3 ms apart: many reads arrive between two paints.
  await stack.script({ token_count: 400, token_delay_ms: 3, first_token_delay_ms: 0 });
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  // The paints (each a task that changes the answer, seen by a
  // MutationObserver) and the messages the widget's worker sends the page.
  await page.evaluate(() => {
    const w = window as unknown as { __paints: number; __messages: number; Worker: typeof Worker };
    w.__paints = 0;
    w.__messages = 0;
    const root = document.querySelector("[data-ringside-chat]")!.shadowRoot!;
    new MutationObserver(() => w.__paints++).observe(root.querySelector("[role=log]")!, { subtree: true, childList: true, characterData: true });
    const Native = w.Worker;
    w.Worker = function (url: string | URL, options?: WorkerOptions) {
      const worker = new Native(url, options);
      worker.addEventListener("message", () => w.__messages++);
      return worker;
    } as unknown as typeof Worker;
  });
  await widget.ask("Tell me a long story");
  const { paints, messages } = await page.evaluate(() => {
    const w = window as unknown as { __paints: number; __messages: number };
    return { paints: w.__paints, messages: w.__messages };
  });
  expect(paints, "the answer streamed in several paints").toBeGreaterThan(5);
  expect(messages, "the answer was read by the widget's worker").toBeGreaterThan(5);
  // One batch per paint, plus the worker's start, the response and the end;
  // a late frame may cost one more now and then.
  expect(messages, `${messages} messages from the worker for ${paints} paints`).toBeLessThanOrEqual(2 * paints);
});
