// Issue #7: faults through the whole stack (page → mint → Ringside → SSE →
// painted answer). Whatever breaks — Ringside down when a token is minted,
// connections cut mid-answer, stalls, a token revoked mid-conversation, a
// page clock ten minutes off — the transcript afterwards holds every message
// the user sent exactly once, and every answer in full.
import { test, expect, Widget, type Stack } from "./stack";

/** A small seeded PRNG (mulberry32): the same seed, the same faults. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every question the user sent is in the transcript exactly once, in order, each answered in full. */
async function expectEachSentOnce(widget: Widget, sent: string[]): Promise<void> {
  await widget.idle();
  const questions = await widget.questions().allInnerTexts();
  expect(questions.length, `one question per message sent, got ${JSON.stringify(questions)}`).toBe(sent.length);
  sent.forEach((text, i) => {
    expect(questions[i], `message ${i + 1} is in its place`).toContain(text);
    expect(questions[i], `message ${i + 1} was sent in the end`).not.toContain("Not sent.");
  });
  for (const text of sent) {
    const copies = questions.filter((q) => q.includes(text)).length;
    expect(copies, `"${text}" is in the transcript exactly once`).toBe(1);
  }
  await expect(widget.answers(), "one answer per question").toHaveCount(sent.length);
  for (const answer of await widget.answers().all()) {
    await expect(answer).not.toContainText("interrupted");
    await expect(answer).not.toContainText("stopped arriving");
  }
}

/** The chat completions the mock answered, oldest first. */
async function completions(stack: Stack) {
  return (await stack.log()).filter((r) => r.method === "POST" && r.path === "/v1/chat/completions");
}

test("Ringside down when the widget mints its token: the question waits, marked not sent, and Retry sends it once", async ({ page, stack }) => {
  await page.goto(stack.pageUrl);
  // Down before the widget's first token request (opening prefetches one).
  await stack.stopMock();
  const widget = new Widget(page);
  await widget.open();
  await widget.send("Is anyone there?");
  // The mint answers 503 upstream_unavailable; the widget retries with
  // backoff, then gives up and keeps the question.
  await expect(widget.questions().first()).toContainText("Not sent.", { timeout: 20_000 });
  await expect(widget.answers()).toHaveCount(0);
  await stack.restartMock();
  await widget.questions().first().getByRole("button", { name: "Retry" }).click();
  await expectEachSentOnce(widget, ["Is anyone there?"]);
  await widget.ask("And now?");
  await expectEachSentOnce(widget, ["Is anyone there?", "And now?"]);
});

test("Ringside back while the widget still retries its token: the question goes through by itself, once", async ({ page, stack }) => {
  await page.goto(stack.pageUrl);
  await stack.stopMock();
  const widget = new Widget(page);
  await widget.open();
  await widget.send("Hello?");
  await page.waitForTimeout(300);
  await stack.restartMock();
  await expectEachSentOnce(widget, ["Hello?"]);
  expect((await completions(stack)).length, "the mock answered the question once").toBe(1);
});

test("Ringside down mid-conversation, then back with a new key: the widget re-mints and nothing is lost", async ({ page, stack }) => {
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await widget.ask("Before the outage");
  await stack.stopMock();
  await widget.send("During the outage");
  await expect(widget.questions().nth(1)).toContainText("Not sent.", { timeout: 20_000 });
  // A fresh mock: the widget's token is unknown to it (401), so it mints anew.
  await stack.restartMock();
  await widget.questions().nth(1).getByRole("button", { name: "Retry" }).click();
  await expectEachSentOnce(widget, ["Before the outage", "During the outage"]);
});

for (const seed of [7, 1234, 99991]) {
  test(`connections cut at seeded random points (seed ${seed}) lose nothing and duplicate nothing`, async ({ page, stack }) => {
    const random = prng(seed);
    const asked = ["First question", "Second question", "Third question", "Fourth question"];
    await stack.hostPage(page, { "stall-timeout-ms": "3000" });
    const widget = new Widget(page);
    await widget.open();
    for (const [i, text] of asked.entries()) {
      // The first attempt is cut after a random number of chunks (0 to 30);
      // the retry gets the default answer.
      const after = Math.floor(random() * 31);
      await stack.script({ token_count: 40, token_delay_ms: 3, fault: { kind: "drop", after } });
      await widget.ask(text);
      const answer = widget.answers().nth(i);
      await expect(answer, `cut after ${after} chunks`).toContainText("The answer was interrupted.");
      await answer.getByRole("button", { name: "Retry" }).click();
      await widget.idle();
    }
    await expectEachSentOnce(widget, asked);
    // Each question reached the mock twice (cut, then retried), never more.
    const bodies = (await completions(stack)).map((r) => r.body.messages.at(-1).content);
    for (const text of asked) {
      expect(bodies.filter((b: string) => b === text).length, `"${text}" was sent twice: cut, then retried`).toBe(2);
    }
  });
}

test("stalls before and during an answer are cut by the watchdog, and Retry answers in full", async ({ page, stack }) => {
  await stack.hostPage(page, { "stall-timeout-ms": "1500" });
  const widget = new Widget(page);
  await widget.open();
  const asked: [string, number][] = [["Stalls at once", 0], ["Stalls midway", 12]];
  for (const [i, [text, after]] of asked.entries()) {
    await stack.script({ token_count: 30, token_delay_ms: 3, fault: { kind: "stall", after } });
    await widget.ask(text);
    const answer = widget.answers().nth(i);
    await expect(answer).toContainText("The answer stopped arriving.");
    await answer.getByRole("button", { name: "Retry" }).click();
    await widget.idle();
  }
  await expectEachSentOnce(widget, asked.map(([text]) => text));
});

test("a token revoked mid-conversation is re-minted once, and the question is answered once", async ({ page, stack }) => {
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await widget.ask("Before the revocation");
  const customer = (await completions(stack))[0].customer_id;
  expect(customer, "the mock knows whose token it was").toBeTruthy();
  const listed = await (await stack.mockApi(`/v1/customers/${customer}/client_tokens`)).json();
  for (const token of listed.data) {
    const revoked = await stack.mockApi(`/v1/customers/${customer}/client_tokens/${token.id}`, { method: "DELETE" });
    expect(revoked.status, "the host's server revokes the token").toBe(200);
  }
  await widget.ask("After the revocation");
  await expectEachSentOnce(widget, ["Before the revocation", "After the revocation"]);
  const log = await stack.log();
  const mints = log.filter((r) => r.method === "POST" && r.path.endsWith("/client_tokens"));
  expect(mints.length, "one token at first, one more after the revocation").toBe(2);
  const attempts = (await completions(stack)).filter((r) => r.body.messages.at(-1).content === "After the revocation");
  expect(attempts.map((r) => r.status), "refused once as revoked, then answered").toEqual([401, 200]);
});

for (const minutes of [10, -10]) {
  test(`a page clock ${minutes > 0 ? "ahead" : "behind"} by ten minutes changes nothing`, async ({ page, stack }) => {
    await page.addInitScript((offset: number) => {
      const RealDate = Date;
      class SkewedDate extends RealDate {
        constructor(...args: ConstructorParameters<typeof Date> | []) {
          if (args.length === 0) super(RealDate.now() + offset);
          else super(...(args as ConstructorParameters<typeof Date>));
        }
        static now(): number {
          return RealDate.now() + offset;
        }
      }
      (globalThis as { Date: DateConstructor }).Date = SkewedDate as DateConstructor;
    }, minutes * 60_000);
    await page.goto(stack.pageUrl);
    expect(await page.evaluate(() => Math.round((Date.now() - performance.timeOrigin - performance.now()) / 60_000))).toBe(minutes);
    const widget = new Widget(page);
    await widget.open();
    await widget.ask("What time is it?");
    await widget.ask("And a second question");
    await expectEachSentOnce(widget, ["What time is it?", "And a second question"]);
    const mints = (await stack.log()).filter((r) => r.method === "POST" && r.path.endsWith("/client_tokens"));
    expect(mints.length, "one token serves the whole conversation: the skew never makes it look expired").toBe(1);
  });
}
