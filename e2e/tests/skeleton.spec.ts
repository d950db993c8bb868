// Issue #2, the walking skeleton: a visitor opens the chat, sends a message
// and watches the answer stream in, token by token, from the mock gateway.
import { test, expect, Widget, expectedAnswer, words, countWorkers, workerCounts, type Counts } from "./stack";

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
  // The messages the widget's worker sends the page (it starts with the panel).
  await countWorkers(page);
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  // The paints: each a task that changes the answer, seen by a MutationObserver.
  await page.evaluate(() => {
    const w = window as unknown as { __paints: number; __counts: Counts };
    w.__paints = 0;
    w.__counts.messages = 0;
    const root = document.querySelector("[data-ringside-chat]")!.shadowRoot!;
    new MutationObserver(() => w.__paints++).observe(root.querySelector("[role=log]")!, { subtree: true, childList: true, characterData: true });
  });
  await widget.ask("Tell me a long story");
  const paints = await page.evaluate(() => (window as unknown as { __paints: number }).__paints);
  const { messages, bytes, texts } = await workerCounts(page);
  expect(paints, "the answer streamed in several paints").toBeGreaterThan(5);
  expect(messages, "the answer was read by the widget's worker").toBeGreaterThan(5);
  // Its SSE and JSON were decoded there too (src/decoder.rs): the page got text.
  expect(texts, "batches of decoded text").toBeGreaterThan(5);
  expect(bytes, "batches of bytes, for the page to decode").toBe(0);
  // One batch per paint, plus the response and the end;
  // a late frame may cost one more now and then.
  expect(messages, `${messages} messages from the worker for ${paints} paints`).toBeLessThanOrEqual(2 * paints);
});

test("an answer with a frame larger than the worker's decoder has memory for ends whole", async ({ page, stack }) => {
  // One content chunk of 900 KB (the mock takes scripts of up to 1 MB): its
  // SSE frame comes in many reads, and the worker's decoder (src/decoder.rs,
  // an instance of the widget's wasm that starts with about 1 MB) keeps the
  // unfinished frame, so its memory grows inside a feed. The worker must read its output after that growth, not
  // through the buffer it had before (which growth detaches).
  const big = "many words in one frame. ".repeat(36_000);
  await stack.script({ tokens: ["It starts. ", big, "It ends here."], token_delay_ms: 0, first_token_delay_ms: 0 });
  await countWorkers(page);
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await widget.ask("Say a lot at once");
  const answer = widget.answers().last();
  await expect(answer.locator(".rsc-msg__status--error"), "the answer was not interrupted").toHaveCount(0);
  const text = await answer.locator(".rsc-msg__body").innerText();
  expect(text.startsWith("It starts."), "it starts as sent").toBe(true);
  expect(text.trimEnd().endsWith("It ends here."), "it ends as sent").toBe(true);
  expect(words(text).length).toBe(words(`It starts. ${big}It ends here.`).length);
  const { bytes, texts } = await workerCounts(page);
  expect(texts, "the worker decoded it").toBeGreaterThan(0);
  expect(bytes, "no batch was left for the page to decode").toBe(0);
});

test("an answer in any script comes through the worker whole: accents, CJK, right-to-left, emoji", async ({ page, stack }) => {
  // The worker hands the page the text as UTF-8 bytes (js/stream-batches.js),
  // in several batches here; every character must arrive as sent.
  const tokens = ["Café ", "naïve ", "日本語の", "テキスト ", "مرحبا ", "بالعالم ", "🎉🚀 ", "👩‍💻 ", "end."];
  await stack.script({ tokens, token_delay_ms: 40, first_token_delay_ms: 0 });
  await countWorkers(page);
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await widget.ask("Say it in every script");
  await expect(widget.answers().last().locator(".rsc-msg__body")).toHaveText(tokens.join(""));
  const { bytes, texts } = await workerCounts(page);
  expect(texts, "in several batches decoded by the worker").toBeGreaterThan(2);
  expect(bytes, "no batch was left for the page to decode").toBe(0);
});

test("the reader of answers starts when the panel opens, not between Enter and the answer", async ({ page, stack }) => {
  await countWorkers(page);
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  const started = async () => (await workerCounts(page)).workers;
  // Hovering fetches a token ahead (a visitor may be about to open), but a
  // worker waits for the panel.
  const prefetched = page.waitForResponse((r) => r.url().endsWith("/api/chat-token"));
  await widget.launcher().hover();
  await prefetched;
  expect(await started(), "hovering the launcher starts no worker").toBe(0);
  await widget.open();
  await expect.poll(started, { message: "the worker starts with the panel" }).toBe(1);
  await expect.poll(() => page.workers().length).toBe(1);
  await widget.ask("Is it ready?");
  const answer = await expectedAnswer(stack, "Is it ready?");
  expect(words(await widget.answers().last().locator(".rsc-msg__body").innerText())).toBe(words(answer));
  expect(await started(), "the answer was read by that worker: none started after Enter").toBe(1);
  expect(page.workers()).toHaveLength(1);
});

test("the Enter that sends reads no element's size or scroll position: the panel with the new messages is not laid out for it in the middle of that task", async ({ page, stack }) => {
  // Before the page loads: every read of an element's size or scroll
  // position (and every scroll) is noted while the Enter key's task runs
  // (from its keydown to the next task). Each one would make the browser lay
  // out the panel, new messages and all, in the middle of that task, and
  // again in the frame after it.
  await page.addInitScript(() => {
    const w = window as unknown as { __reads: string[]; __counting: boolean };
    w.__reads = [];
    w.__counting = false;
    // Only the widget's reads count: Playwright's trace snapshots, taken
    // after each action, read every element's scroll position in the page
    // itself, and one may land before the Enter's task is over. The widget's
    // come from its glue or its wasm.
    const widgets = () => w.__counting && /ringside-chat|wasm/.test(new Error().stack ?? "");
    for (const name of ["scrollHeight", "scrollWidth", "clientHeight", "clientWidth", "offsetHeight", "offsetWidth"]) {
      for (const proto of [Element.prototype, HTMLElement.prototype]) {
        const native = Object.getOwnPropertyDescriptor(proto, name);
        if (!native?.get) continue;
        const get = native.get;
        Object.defineProperty(proto, name, {
          ...native,
          get() {
            if (widgets()) w.__reads.push(name);
            return get.call(this);
          },
        });
      }
    }
    const scrollTop = Object.getOwnPropertyDescriptor(Element.prototype, "scrollTop")!;
    Object.defineProperty(Element.prototype, "scrollTop", {
      ...scrollTop,
      get() {
        if (widgets()) w.__reads.push("scrollTop");
        return scrollTop.get!.call(this);
      },
      set(value) {
        if (widgets()) w.__reads.push("scrollTop =");
        scrollTop.set!.call(this, value);
      },
    });
    addEventListener(
      "keydown",
      (event) => {
        if (event.key !== "Enter") return;
        w.__counting = true;
        setTimeout(() => (w.__counting = false));
      },
      true,
    );
  });
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await widget.input().pressSequentially("line one");
  await widget.input().press("Shift+Enter");
  await widget.input().pressSequentially("line two");
  const reads = () => page.evaluate(() => (window as unknown as { __reads: string[] }).__reads);
  expect(await reads(), "a Shift+Enter is counted too: the box measures its new line").not.toHaveLength(0);
  await page.evaluate(() => ((window as unknown as { __reads: string[] }).__reads = []));
  await widget.input().press("Enter");
  await expect(widget.questions().first()).toHaveText("line one\nline two");
  expect(await reads(), "nothing read the layout in the task that sent").toEqual([]);
  const answer = await expectedAnswer(stack, "line one\nline two");
  await expect.poll(async () => words(await widget.answers().last().locator(".rsc-msg__body").innerText())).toBe(words(answer));
});

test("an answer is read to its end while the page runs no frames (a tab in the background), and shows whole when they resume", async ({ page, stack }) => {
  await stack.script({ token_count: 200, token_delay_ms: 5, first_token_delay_ms: 0 });
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await widget.send("Tell me in the background");
  await expect(widget.answers().last().locator(".rsc-msg__body")).not.toBeEmpty();
  // As in a hidden tab: animation frames stop (their callbacks wait).
  await page.evaluate(() => {
    const w = window as unknown as { __held: FrameRequestCallback[]; requestAnimationFrame: (f: FrameRequestCallback) => number };
    w.__held = [];
    w.requestAnimationFrame = (f) => w.__held.push(f);
  });
  // Nothing waits for a frame that does not come: the answer is read to its
  // end (within the 30 s after which a silent stream counts as cut).
  await widget.idle();
  expect(await page.evaluate(() => (window as unknown as { __held: unknown[] }).__held.length), "frames were asked for meanwhile").toBeGreaterThan(0);
  // Frames again (the tab is back): the answer shows whole, not interrupted.
  await page.evaluate(() => {
    const w = window as unknown as { __held: FrameRequestCallback[]; requestAnimationFrame: unknown };
    delete w.requestAnimationFrame;
    for (const f of w.__held) f(performance.now());
  });
  await stack.script({ token_count: 200 });
  const answer = await expectedAnswer(stack, "Tell me in the background");
  await expect.poll(async () => words(await widget.answers().last().locator(".rsc-msg__body").innerText())).toBe(words(answer));
  await expect(widget.answers().last()).not.toContainText("interrupted");
});
