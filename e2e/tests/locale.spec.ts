// Issue 17, "In the visitor's language": every text in 15 more languages,
// chosen from the `locale` option, else the page's `lang`, else the
// browser's languages; right to left for Arabic and Hebrew; `strings` still
// wins; a language's texts are fetched only for a page in it (English is
// built in); numbers as the language writes them (Intl).
import type { Page } from "@playwright/test";

import { test, expect, expectedAnswer, Widget, type Stack } from "./stack";

/** A host page in `lang` (none: no attribute) with the widget's script tag and `attrs`. */
async function pageIn(page: Page, stack: Stack, lang: string | null, attrs = ""): Promise<string[]> {
  const fetched: string[] = [];
  page.on("request", (request) => {
    if (/ringside-chat\.[A-Za-z-]+\.json$/.test(request.url())) fetched.push(request.url().split("/").pop()!);
  });
  const html = `<!doctype html><html${lang ? ` lang="${lang}"` : ""}><head><meta charset="utf-8"><title>Host</title></head>
<body><main><h1>Host</h1></main><script src="/ringside-chat.js" data-token-endpoint="/api/chat-token" ${attrs} async></script></body></html>`;
  await page.goto(stack.writePage(`page-${lang ?? "none"}-${Math.random().toString(36).slice(2)}.html`, html));
  return fetched;
}

test("a page with lang=\"ar\" gets Arabic, right to left, the panel mirrored", async ({ page, stack }) => {
  const fetched = await pageIn(page, stack, "ar");
  const launcher = page.getByRole("button", { name: "فتح المحادثة" });
  await expect(launcher).toBeVisible();
  expect(fetched).toEqual(["ringside-chat.ar.json"]);
  const host = page.locator("[data-ringside-chat]");
  await expect(host).toHaveAttribute("dir", "rtl");
  await expect(host).toHaveAttribute("lang", "ar");
  const viewport = page.viewportSize()!;
  const box = (await launcher.boundingBox())!;
  expect(box.x + box.width / 2, "the launcher sits in the left corner").toBeLessThan(viewport.width / 2);

  await launcher.click();
  const dialog = page.getByRole("dialog", { name: "تحدّث إلينا" });
  await expect(dialog).toBeVisible();
  const input = page.getByRole("textbox", { name: "الرسالة" });
  await expect(input).toHaveAttribute("placeholder", "اطرح سؤالًا…");
  const send = dialog.getByRole("button", { name: "إرسال", exact: true });
  const [inputBox, sendBox] = [(await input.boundingBox())!, (await send.boundingBox())!];
  expect(sendBox.x + sendBox.width, "Send is on the left of the message box").toBeLessThanOrEqual(inputBox.x + 1);
  expect(await dialog.evaluate((el) => getComputedStyle(el).direction)).toBe("rtl");
  await expect(dialog).toContainText("مرحبًا! اسألني عن أي شيء.");

  await input.fill("ما هي خططكم؟");
  await input.press("Enter");
  const answer = page.getByRole("log").locator("article").last();
  await expect(answer).toHaveAttribute("aria-label", "المساعد");
  await expect(answer.getByRole("button", { name: "نسخ الرسالة" })).toBeVisible({ timeout: 15_000 });
  await expect(answer.getByRole("button", { name: "مفيدة", exact: true })).toBeVisible();
});

test("a page with lang=\"ja\" gets Japanese, and IME input still works", async ({ page, stack }) => {
  await pageIn(page, stack, "ja");
  await page.getByRole("button", { name: "チャットを開く" }).click();
  const input = page.getByRole("textbox", { name: "メッセージ" });
  await expect(input).toHaveAttribute("placeholder", "質問を入力…");
  await input.focus();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Input.imeSetComposition", { text: "りょうきん", selectionStart: 5, selectionEnd: 5 });
  await page.keyboard.press("Enter");
  await cdp.send("Input.insertText", { text: "料金は？" });
  await expect(input).toHaveValue(/料金は？/);
  const log = page.getByRole("log");
  await expect(log.locator("article"), "the Enter that chose the characters sent nothing").toHaveCount(0);
  await page.keyboard.press("Enter");
  await expect(log.locator("article[aria-label=あなた]")).toHaveText(["料金は？"]);
  const answer = log.locator("article[aria-label=アシスタント]");
  await expect(answer.getByRole("button", { name: "回答を再生成" })).toBeVisible({ timeout: 15_000 });
  const expected = await expectedAnswer(stack, "料金は？");
  expect((await answer.locator(".rsc-msg__body").innerText()).split(/\s+/).join(" ")).toBe(expected.split(/\s+/).join(" "));
});

test("an English page fetches no language; strings still win; the option beats the page; numbers as the language writes them", async ({ page, stack }) => {
  const english = await pageIn(page, stack, "en-GB");
  await new Widget(page).open();
  expect(english, "English is built in").toEqual([]);

  const fetched = await pageIn(page, stack, "fr", `data-locale="de-DE" data-max-length="1000" data-strings='{"send":"Los"}'`);
  await page.getByRole("button", { name: "Chat öffnen" }).click();
  expect(fetched).toEqual(["ringside-chat.de.json"]);
  const dialog = page.getByRole("dialog");
  await expect(dialog.getByRole("button", { name: "Los", exact: true }), "the host's own text wins").toBeVisible();
  await page.getByRole("textbox", { name: "Nachricht" }).fill("x".repeat(1001));
  await page.getByRole("textbox", { name: "Nachricht" }).press("Enter");
  await expect(dialog).toContainText("Ihre Nachricht hat 1.001 Zeichen; erlaubt sind höchstens 1.000.");
});

test.describe("a page without lang", () => {
  test.use({ locale: "pt-BR" });

  test("takes the browser's language", async ({ page, stack }) => {
    const fetched = await pageIn(page, stack, null);
    await expect(page.getByRole("button", { name: "Abrir chat" })).toBeVisible();
    expect(fetched).toEqual(["ringside-chat.pt-BR.json"]);
  });
});
