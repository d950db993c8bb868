// Issue 14, "Users who sign out": in the host app's help panel, user A signs
// out and user B signs in, in the same tab and the same browser profile, with
// the conversation kept in localStorage. B never sees a word of A's: stored
// conversations are keyed by customer and shown only once a token for that
// customer arrived, a mint that refuses the session drops them, and the
// host's logout code can make every widget forget at once.
import type { Page } from "@playwright/test";

import { test, expect, Widget, type Stack } from "./stack";
import { COOKIE, sessionMint, sessionToken } from "./session";

test.use({ mintSetup: sessionMint() });

/** The host app's login (a session cookie set by its server) or logout (`null`). */
async function signIn(page: Page, stack: Stack, user: string | null): Promise<void> {
  const url = stack.mintUrl;
  if (user) await page.context().addCookies([{ name: COOKIE, value: sessionToken(user), url }]);
  else await page.context().clearCookies({ name: COOKIE });
}

/** Every text the widget's shadow root shows, sampled on every animation frame from page start. */
async function watchEveryFrame(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as any;
    w.__shown = new Set<string>();
    const sample = () => {
      for (const host of document.querySelectorAll("[data-ringside-chat]")) {
        const text = host.shadowRoot?.textContent;
        if (text) w.__shown.add(text);
      }
      requestAnimationFrame(sample);
    };
    requestAnimationFrame(sample);
  });
}

async function everythingShown(page: Page): Promise<string> {
  return page.evaluate(() => [...(window as any).__shown].join("\n"));
}

async function stored(page: Page): Promise<string> {
  return page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
}

const A_WORDS = "Where is invoice ZEBRA-4711 for Alice?";

/** A signs in, chats, and returns the words of A's answer. */
async function aliceChats(page: Page, stack: Stack): Promise<string> {
  await signIn(page, stack, "alice");
  await stack.hostPage(page, { persist: "local", title: "Help" });
  const widget = new Widget(page);
  await widget.open();
  await widget.ask(A_WORDS);
  const answer = (await widget.answers().first().innerText()).trim();
  expect(answer.length, "A got an answer").toBeGreaterThan(20);
  expect(await stored(page), "A's conversation is stored, in localStorage").toContain("ZEBRA-4711");
  return answer;
}

async function expectNothingOfAlice(page: Page, answer: string, where: string): Promise<void> {
  const text = where === "shown" ? await everythingShown(page) : await stored(page);
  expect(text, `A's question is never ${where}`).not.toContain("ZEBRA-4711");
  expect(text, `A's answer is never ${where}`).not.toContain(answer.slice(0, 60));
}

test("A signs out and B signs in on the same browser: B never sees a word of A's, not even for a frame", async ({ page, stack }) => {
  const answer = await aliceChats(page, stack);

  // A signs out (the host's logout forgets to tell the widget) and B signs
  // in: the stored conversation is A's, and the token says B.
  await signIn(page, stack, null);
  await signIn(page, stack, "bob");
  await watchEveryFrame(page);
  await page.reload();
  const widget = new Widget(page);
  await widget.open();
  await widget.ask("Hello, I am Bob");
  await expect(widget.questions()).toHaveText(["Hello, I am Bob"]);
  await expectNothingOfAlice(page, answer, "shown");
  const sent = (await stack.log()).filter((r) => r.path.endsWith("/chat/completions")).at(-1)!;
  expect(JSON.stringify(sent.body.messages), "nor sent as B's history").not.toContain("ZEBRA-4711");

  // A signs in again: their conversation is theirs, and comes back.
  await signIn(page, stack, "alice");
  await page.reload();
  await widget.open();
  await expect(widget.questions()).toHaveText([A_WORDS]);
});

test("a mint that refuses the session (signed out) makes the widget drop the stored conversation", async ({ page, stack }) => {
  const answer = await aliceChats(page, stack);
  await signIn(page, stack, null);
  await watchEveryFrame(page);
  await page.reload();
  const widget = new Widget(page);
  await widget.open();
  // The token request is refused (401): nobody is signed in.
  const refused = page.waitForResponse((r) => r.url().endsWith("/api/chat-token") && r.status() === 401);
  await widget.send("Anyone there?");
  await refused;
  await expect.poll(() => stored(page), { message: "A's conversation is gone from the browser" }).not.toContain("ZEBRA-4711");
  await expect(widget.questions(), "only the question just typed, marked not sent").toHaveCount(1);
  await expect(widget.questions().first()).toContainText("Anyone there?Not sent.");
  await expectNothingOfAlice(page, answer, "shown");
});

test("in a single-page app, the host's logout calls RingsideChat.clearAll(): the panel empties at once and B starts clean", async ({ page, stack }) => {
  const answer = await aliceChats(page, stack);
  // The SPA's logout: the session cookie goes, and the widgets are told.
  await signIn(page, stack, null);
  await page.evaluate(() => (window as any).RingsideChat.clearAll());
  const widget = new Widget(page);
  await expect(widget.questions(), "the panel forgot A at once").toHaveCount(0);
  await expect(widget.answers()).toHaveCount(0);
  await expectNothingOfAlice(page, answer, "stored");
  // Watch from now on, in this same page.
  await page.evaluate(() => {
    const w = window as any;
    w.__shown = new Set<string>();
    const root = document.querySelector("[data-ringside-chat]")!.shadowRoot!;
    const sample = () => {
      w.__shown.add(root.textContent ?? "");
      requestAnimationFrame(sample);
    };
    sample();
  });
  // B signs in, in the same tab, without a reload.
  await signIn(page, stack, "bob");
  await widget.ask("Hello, I am Bob");
  await expect(widget.questions()).toHaveText(["Hello, I am Bob"]);
  await expectNothingOfAlice(page, answer, "shown");
  const chats = (await stack.log()).filter((r) => r.path.endsWith("/chat/completions"));
  const customers = new Set(chats.map((r) => r.customer_id));
  expect(customers.size, "B's question went with B's own token").toBe(2);
  expect(JSON.stringify(chats.at(-1)!.body.messages)).not.toContain("ZEBRA-4711");
});
