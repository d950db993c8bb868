// Issue 17, "Across devices": with `persist: "server"`, a signed-in user's
// conversation is kept in a Ringside thread of their customer (the optional
// threads module, js/ringside-chat-threads.js), so they find it on another
// device: restored when the panel opens, and listed, newest first, by its
// first question, under "Past conversations". Another user sees none of it.
// Two browser contexts are two devices (no storage in common).
import type { Browser, Page } from "@playwright/test";

import { test, expect, Widget, type Stack } from "./stack";
import { COOKIE, sessionMint, sessionToken } from "./session";

test.use({ mintSetup: sessionMint(["--threads"]) });

/** A new device (browser context) where `user` is signed in to the host app. */
async function device(browser: Browser, stack: Stack, user: string): Promise<Page> {
  const context = await browser.newContext();
  await context.addCookies([{ name: COOKIE, value: sessionToken(user), url: stack.mintUrl }]);
  const page = await context.newPage();
  await stack.hostPage(page, { persist: "server" });
  return page;
}

async function transcript(widget: Widget): Promise<string[]> {
  return widget.log().locator("article .rsc-msg__body").allInnerTexts();
}

/** The threads the mock holds, as the server key sees them. */
async function threads(stack: Stack): Promise<any[]> {
  return (await (await stack.mockApi("/v1/threads")).json()).data;
}

test("user A finds their conversation on a second device, listed by its first question; user B sees none of it", async ({ browser, stack }) => {
  const first = await device(browser, stack, "alice");
  const a1 = new Widget(first);
  await a1.open();
  await a1.ask("Can I move my launch date?");
  await a1.ask("And what does it cost?");
  await expect.poll(async () => (await threads(stack)).length, { message: "one thread for the conversation" }).toBe(1);
  const thread = (await threads(stack))[0];
  expect(thread.metadata.title).toBe("Can I move my launch date?");
  await expect
    .poll(async () => (await (await stack.mockApi(`/v1/threads/${thread.id}/messages`)).json()).data.length)
    .toBe(4);
  const shown = await transcript(a1);

  // A's other device: nothing stored there; the conversation comes when the panel opens.
  const second = await device(browser, stack, "alice");
  const before = (await stack.log()).filter((r) => r.path.startsWith("/v1/threads")).length;
  await second.waitForTimeout(500);
  expect((await stack.log()).filter((r) => r.path.startsWith("/v1/threads")).length, "nothing is fetched before the panel opens").toBe(before);
  const a2 = new Widget(second);
  await a2.open();
  await expect(a2.answers()).toHaveCount(2);
  expect(await transcript(a2)).toEqual(shown);
  await a2.button("Past conversations").click();
  const history = second.getByRole("region", { name: "Past conversations" });
  await expect(history.getByRole("button", { name: /Can I move my launch date\?/ })).toBeVisible();
  await expect(history.getByRole("button", { name: /ago|now/ })).toHaveCount(1);

  // A asks more on the second device; back on the first, it is there after a reload.
  await history.getByRole("button", { name: "Back to the chat" }).click();
  await a2.ask("Thanks, one last thing");
  await expect.poll(async () => (await (await stack.mockApi(`/v1/threads/${thread.id}/messages`)).json()).data.length).toBe(6);
  await first.reload();
  await a1.open();
  await expect(a1.answers()).toHaveCount(3);
  expect(await threads(stack), "still one conversation").toHaveLength(1);

  // B, on a third device: nothing of A's, not even in the list.
  const third = await device(browser, stack, "bob");
  const b = new Widget(third);
  await b.open();
  await third.waitForTimeout(1000);
  await expect(b.questions()).toHaveCount(0);
  await b.button("Past conversations").click();
  await expect(third.getByRole("region", { name: "Past conversations" })).toContainText("No past conversations yet.");
  expect(await third.locator("[data-ringside-chat]").evaluate((h) => h.shadowRoot!.textContent)).not.toContain("launch date");
});

test("New conversation starts another thread, and the history opens either one", async ({ browser, stack }) => {
  const page = await device(browser, stack, "carol");
  const widget = new Widget(page);
  await widget.open();
  await widget.ask("First topic");
  await expect.poll(async () => (await threads(stack)).length).toBe(1);
  await widget.button("New conversation").click();
  await widget.ask("Second topic");
  await expect.poll(async () => (await threads(stack)).length).toBe(2);
  await widget.button("Past conversations").click();
  const items = page.getByRole("region", { name: "Past conversations" }).getByRole("listitem");
  await expect(items).toHaveCount(2);
  await expect(items.first(), "newest first").toContainText("Second topic");
  await items.last().getByRole("button").click();
  await expect(widget.questions()).toHaveText(["First topic"]);
  await expect(widget.answers()).toHaveCount(1);
});

test("the threads use the widget's own token: one token request per page, and a token Ringside refused is replaced for them too", async ({ browser, stack }) => {
  const page = await device(browser, stack, "dana");
  const asked: string[] = [];
  page.on("request", (request) => {
    if (request.url().endsWith("/api/chat-token")) asked.push(request.url());
  });
  const widget = new Widget(page);
  await widget.open();
  await widget.ask("Where is my order?");
  await expect.poll(async () => (await threads(stack)).length, { message: "the conversation is kept in a thread" }).toBe(1);
  await widget.button("Past conversations").click();
  const history = page.getByRole("region", { name: "Past conversations" });
  await expect(history.getByRole("button", { name: /Where is my order\?/ })).toBeVisible();
  expect(asked, "the widget and its threads ask the host for one token").toHaveLength(1);

  // The host's server revokes the token: the threads' next call is refused,
  // and the widget mints one new token for them (and for its next question).
  const customer = (await stack.log()).find((r) => r.path === "/v1/chat/completions")?.customer_id;
  expect(customer, "the mock knows whose token it was").toBeTruthy();
  for (const token of (await (await stack.mockApi(`/v1/customers/${customer}/client_tokens`)).json()).data) {
    expect((await stack.mockApi(`/v1/customers/${customer}/client_tokens/${token.id}`, { method: "DELETE" })).status).toBe(200);
  }
  const refused = (await stack.log()).filter((r) => r.path.startsWith("/v1/threads") && r.status === 401).length;
  await history.getByRole("button", { name: "Back to the chat" }).click();
  await widget.button("Past conversations").click();
  await expect(history.getByRole("button", { name: /Where is my order\?/ })).toBeVisible();
  expect((await stack.log()).filter((r) => r.path.startsWith("/v1/threads") && r.status === 401).length, "the revoked token was refused once").toBe(refused + 1);
  await history.getByRole("button", { name: "Back to the chat" }).click();
  await widget.ask("And when does it ship?");
  expect(asked, "one more token, shared again").toHaveLength(2);
});
