// Issue #5: when things go wrong, each failure is a clear state in the
// panel and the user's text is never lost.
import { test, expect, Widget } from "./stack";

test("an empty wallet blocks the input with the host's message, keeping the question", async ({ page, stack }) => {
  await stack.script({ fault: { kind: "status", status: 402, code: "customer_wallet_empty", message: "empty" } });
  await stack.hostPage(page, { "out-of-credit-message": "Our assistant is resting. Email help@acme.test." });
  const widget = new Widget(page);
  await widget.open();
  await widget.send("Are you there?");
  await expect(widget.dialog().getByRole("alert")).toHaveText("Our assistant is resting. Email help@acme.test.");
  await expect(widget.input()).toBeDisabled();
  await expect(widget.questions().first()).toContainText("Are you there?");
  await expect(widget.questions().first()).toContainText("Not sent.");
  await expect(widget.answers()).toHaveCount(0);
});

test("a rate limit counts Retry-After down, then sending works again", async ({ page, stack }) => {
  await stack.script({ fault: { kind: "status", status: 429, code: "rate_limit_exceeded", retry_after: 3 } });
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await widget.send("Quick question");
  const notice = widget.dialog().getByRole("status").filter({ hasText: "You can send again in" });
  await expect(notice).toContainText(/in [23] s/);
  await expect(widget.button("Send")).toBeDisabled();
  await expect(notice).toBeHidden({ timeout: 6_000 });
  await expect(widget.button("Send")).toBeEnabled();
  await widget.questions().first().getByRole("button", { name: "Retry" }).click();
  await widget.idle();
  await expect(widget.questions()).toHaveCount(1);
  await expect(widget.questions().first()).not.toContainText("Not sent.");
  await expect(widget.answers()).toHaveCount(1);
});

test("a refused origin says 'chat unavailable' to the user and exactly why to the developer", async ({ page, stack }) => {
  const errors: string[] = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await stack.script({ fault: { kind: "status", status: 403, code: "client_token_origin_mismatch", message: "origin" } });
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await widget.send("Hello?");
  await expect(widget.dialog().getByRole("alert")).toHaveText("Chat is unavailable on this page.");
  expect(errors.join("\n")).toContain("client_token_origin_mismatch");
  expect(errors.join("\n")).toContain("--allowed-origin");
});

test("a page on an origin the mint does not serve gets 'unavailable', not a crash", async ({ page, stack }) => {
  const errors: string[] = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await page.goto(stack.pageUrl.replace("127.0.0.1", "localhost"));
  const widget = new Widget(page);
  await widget.open();
  await widget.send("Hello from the wrong origin");
  await expect(widget.dialog().getByRole("alert")).toHaveText("Chat is unavailable on this page.");
  await expect(widget.questions().first()).toContainText("Not sent.");
  expect(errors.join("\n")).toContain("origin_not_allowed");
});

test("a token endpoint that is down is retried with backoff", async ({ page, stack }) => {
  let calls = 0;
  await page.route("**/api/chat-token", (route) => (++calls <= 2 ? route.abort("connectionrefused") : route.continue()));
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await widget.ask("Anyone?");
  expect(calls).toBe(3);
  await expect(widget.questions().first()).not.toContainText("Not sent.");
  await expect(widget.answers()).toHaveCount(1);
});

for (const [name, fault, reason] of [
  ["a dropped connection", { kind: "drop", after: 8 }, "The answer was interrupted."],
  ["an error frame", { kind: "error", after: 8, code: "upstream_error", message: "boom" }, "The answer was interrupted."],
  ["a malformed frame", { kind: "malformed", after: 8 }, "The answer was interrupted."],
  ["a stall", { kind: "stall", after: 8 }, "The answer stopped arriving."],
] as const) {
  test(`${name} mid-answer keeps the partial answer, marked, and Retry answers in full`, async ({ page, stack }) => {
    await stack.script({ token_count: 40, token_delay_ms: 5, fault });
    await stack.hostPage(page, { "stall-timeout-ms": "1500" });
    const widget = new Widget(page);
    await widget.open();
    await widget.ask("Tell me");
    const answer = widget.answers().last();
    await expect(answer).toContainText(reason);
    const partial = (await answer.locator(".rsc-msg__body").innerText()).trim();
    expect(partial.split(/\s+/).length, "the 8 tokens that arrived are kept").toBe(8);
    await answer.getByRole("button", { name: "Retry" }).click();
    await widget.idle();
    await expect(widget.answers()).toHaveCount(1);
    await expect(widget.answers().last()).not.toContainText(reason);
    await expect(widget.questions(), "the question is in the transcript exactly once").toHaveCount(1);
  });
}

test("a server error before the answer marks the question not sent, and Retry sends it", async ({ page, stack }) => {
  await stack.script({ fault: { kind: "status", status: 503, code: "overloaded" } });
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await widget.send("Important question");
  await expect(widget.questions().first()).toContainText("Not sent.");
  await widget.questions().first().getByRole("button", { name: "Retry" }).click();
  await widget.idle();
  await expect(widget.questions()).toHaveCount(1);
  await expect(widget.answers()).toHaveCount(1);
});
