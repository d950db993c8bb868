// Issue #5: the token lifecycle. Fetched lazily (never on page load), one
// fetch at a time however many callers need it, re-minted once when the
// gateway says it expired, and a question is never sent twice.
import { test, expect, Widget } from "./stack";

test("no token is fetched on page load; hovering the launcher prefetches one", async ({ page, stack }) => {
  const tokenCalls: string[] = [];
  page.on("request", (r) => r.url().endsWith("/api/chat-token") && tokenCalls.push(r.url()));
  await page.goto(stack.pageUrl);
  await page.waitForTimeout(2500); // the widget's wasm loads on idle meanwhile
  expect(tokenCalls, "a visitor who does not chat costs no token").toHaveLength(0);
  const widget = new Widget(page);
  await widget.launcher().hover();
  await expect.poll(() => tokenCalls.length).toBe(1);
  await widget.launcher().click();
  await widget.ask("Hi");
  expect(tokenCalls, "the prefetched token is used").toHaveLength(1);
});

test("callers waiting for a token share one fetch", async ({ page, stack }) => {
  let calls = 0;
  await page.route("**/api/chat-token", async (route) => {
    calls++;
    await new Promise((r) => setTimeout(r, 600));
    await route.continue();
  });
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.launcher().hover();
  await widget.launcher().click();
  await widget.send("Right away");
  await widget.idle();
  expect(calls).toBe(1);
});

test("a token that expired mid-conversation is re-minted once and the question sent once", async ({ page, stack }) => {
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await widget.ask("Before the break");
  // Twenty minutes pass for the gateway (the page's clock does not move).
  await stack.advanceClock(20 * 60);
  await widget.ask("After the break");
  await expect(widget.answers().last()).not.toContainText("interrupted");

  const log = await stack.log();
  const mints = log.filter((r) => r.method === "POST" && r.path.endsWith("/client_tokens"));
  expect(mints, "exactly one extra mint").toHaveLength(2);
  const chats = log.filter((r) => r.path.endsWith("/chat/completions"));
  expect(chats.map((r) => r.status)).toEqual([200, 401, 200]);
  expect(chats[1].body, "the retry repeats the refused request").toEqual(chats[2].body);
  await expect(widget.questions()).toHaveText(["Before the break", "After the break"]);
});
