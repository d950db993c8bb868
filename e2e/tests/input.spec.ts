// Issue #5: the message box: Enter sends, Shift+Enter is a new line, Enter
// inside an IME composition never sends, empty and over-long messages are
// refused with a visible reason, and the box grows with its text.
import { test, expect, Widget } from "./stack";

test("Enter sends and Shift+Enter starts a new line", async ({ page, stack }) => {
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await widget.input().pressSequentially("line one");
  await widget.input().press("Shift+Enter");
  await widget.input().pressSequentially("line two");
  await expect(widget.questions()).toHaveCount(0);
  await widget.input().press("Enter");
  await expect(widget.questions().first()).toHaveText("line one\nline two");
  await expect(widget.input()).toHaveValue("");
});

test("Enter that confirms an IME composition does not send", async ({ page, stack }) => {
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await widget.input().focus();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Input.imeSetComposition", { text: "にほんご", selectionStart: 4, selectionEnd: 4 });
  await page.keyboard.press("Enter");
  await cdp.send("Input.insertText", { text: "日本語" });
  await expect(widget.input()).toHaveValue(/日本語/);
  await expect(widget.questions(), "the Enter that picked the characters sent nothing").toHaveCount(0);
  await page.keyboard.press("Enter");
  await expect(widget.questions().first()).toHaveText("日本語");
});

test("an empty message is refused with a reason", async ({ page, stack }) => {
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await widget.input().fill("   ");
  await widget.input().press("Enter");
  await expect(widget.dialog().getByRole("status").filter({ hasText: "Type a message first." })).toBeVisible();
  await expect(widget.questions()).toHaveCount(0);
});

test("an over-long message is refused, says why, and stays in the box", async ({ page, stack }) => {
  await stack.hostPage(page, { "max-length": "20" });
  const widget = new Widget(page);
  await widget.open();
  const long = "x".repeat(25);
  await widget.input().fill(long);
  await widget.input().press("Enter");
  await expect(widget.dialog()).toContainText("Your message is 25 characters long; the limit is 20.");
  await expect(widget.input(), "nothing the user typed is lost").toHaveValue(long);
  await expect(widget.questions()).toHaveCount(0);
});

test("the box grows with its text", async ({ page, stack }) => {
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  const before = (await widget.input().boundingBox())!.height;
  await widget.input().pressSequentially("a");
  for (let i = 0; i < 3; i++) await widget.input().press("Shift+Enter");
  const after = (await widget.input().boundingBox())!.height;
  expect(after).toBeGreaterThan(before + 30);
  await widget.input().press("Enter");
  await expect(widget.questions()).toHaveCount(1);
  await expect.poll(async () => (await widget.input().boundingBox())!.height, { message: "sent, the box is one line again" }).toBe(before);
});
