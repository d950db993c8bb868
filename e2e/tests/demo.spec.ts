// Issue #18: the demo is the product's shop window. Each page `cargo xtask
// demo` serves, visited as a person would, against a mock in its demo answer
// mode (streamed fast here: a first token after 50 ms, then 2 ms a token):
// the answers render their Markdown (a table as a table, steps with code
// inside), every embedding works, and the states page's four failures each
// recover.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Locator, Page } from "@playwright/test";
import { test, expect, Widget, type Stack } from "./stack";

const DEMO = path.resolve(import.meta.dirname, "../../demo");

test.use({ mockFlags: ["--answer-mode", "demo", "--first-token-delay-ms", "50", "--token-delay-ms", "2", "--token-jitter-ms", "1"] });

/** Serves the pages of demo/ beside the built index, with the CDN and the mock filled in, as `cargo xtask demo` does. */
async function demoSite(stack: Stack): Promise<void> {
  const cdn = await stack.cdn();
  for (const name of readdirSync(DEMO)) {
    const text = readFileSync(path.join(DEMO, name), "utf8");
    stack.writePage(name, name.endsWith(".html") ? text.replaceAll("{{CDN}}", cdn).replaceAll("{{MOCK}}", stack.mockUrl) : text);
  }
}

async function visit(page: Page, stack: Stack, name: string): Promise<void> {
  await demoSite(stack);
  await page.goto(`${stack.mintUrl}/${name}`);
}

/** A pricing table rendered as a table: head, body, the plans in rows. */
async function expectPricingTable(answer: Locator): Promise<void> {
  const table = answer.locator("table").first();
  await expect(table, "the Markdown table is a table").toBeVisible();
  await expect(table.locator("thead th")).toHaveText(["Plan", "Price", "Missions per year", "Telemetry kept", "Support"]);
  await expect(table.locator("tbody tr")).toHaveCount(3);
  await expect(table.locator("tbody tr").nth(1).locator("td")).toHaveCount(5);
  await expect(table.locator("tbody tr").nth(1).locator("td").first()).toHaveText("Pro");
  await expect(answer, "no Markdown shows through").not.toContainText("|:---");
}

/** Numbered steps, each with its code block inside the item. */
async function expectInstallSteps(answer: Locator): Promise<void> {
  const steps = answer.locator("ol").first().locator(":scope > li");
  await expect(steps).toHaveCount(5);
  await expect(steps.first().locator("pre")).toContainText("curl -fsSL https://get.acme-rockets.example/install.sh | sh");
  await expect(steps.nth(1).locator("pre")).toHaveText("acme login");
  await expect(steps.nth(2).locator("pre")).toContainText('form_factor = "3U"');
  await expect(answer.locator("blockquote")).toContainText("acme doctor");
  await expect(answer.locator("code", { hasText: /^acme doctor$/ })).toHaveCount(1);
}

test("the index links every demo page, and its questions stream a table, then steps with code", async ({ page, stack }) => {
  await visit(page, stack, "");
  const cards = page.locator("main .cards a");
  await expect(cards).toHaveText([
    "A marketing site",
    "An in-app help panel",
    "The <ringside-chat> element",
    "Dark and automatic themes",
    "Right to left",
    "When things go wrong",
  ]);
  for (const href of await cards.evaluateAll((links) => links.map((a) => (a as HTMLAnchorElement).href))) {
    expect((await page.request.get(href)).status(), href).toBe(200);
  }
  await page.getByRole("button", { name: "Compare the plans, then install" }).click();
  const widget = new Widget(page);
  await expect(widget.questions()).toHaveText(["Compare your plans in a table, then give me install steps"]);
  await widget.idle();
  const answer = widget.answers().last();
  await expect(answer.getByRole("heading", { name: "Plans and pricing" })).toBeVisible();
  await expect(answer.getByRole("heading", { name: "Installing the acme CLI" })).toBeVisible();
  await expectPricingTable(answer);
  await expectInstallSteps(answer);
  await expect(answer.locator("strong", { hasText: "Launch costs are separate." })).toHaveCount(1);
});

test("the marketing page loads the widget from the CDN origin and answers its suggestion with a table", async ({ page, stack }) => {
  const fromCdn: string[] = [];
  const cdn = await stack.cdn();
  page.on("request", (r) => r.url().startsWith(cdn) && fromCdn.push(new URL(r.url()).pathname));
  await visit(page, stack, "marketing.html");
  const widget = new Widget(page);
  await widget.open();
  await expect(widget.dialog()).toHaveAccessibleName("Ask Acme");
  await widget.log().getByRole("button", { name: "What does a launch cost?" }).click();
  await widget.idle();
  await expectPricingTable(widget.answers().last());
  const files = [...new Set(fromCdn)].map((p) => p.replace(/-[0-9a-f]{16}\.wasm$/, "-<hash>.wasm"));
  expect(files.sort()).toEqual([
    "/ringside-chat-answers-<hash>.wasm",
    "/ringside-chat-widget.js",
    "/ringside-chat-widget_bg.wasm",
    "/ringside-chat.js",
  ]);
});

test("the help panel knows the page: 'Ask about this page' explains billing on the Pro plan", async ({ page, stack }) => {
  await visit(page, stack, "help-panel.html");
  const panel = page.getByRole("dialog", { name: "Help" });
  await expect(panel).toBeVisible();
  await expect(page.getByRole("button", { name: "Open chat" }), "inline: no launcher").toHaveCount(0);
  await page.getByRole("button", { name: "Ask about this page" }).click();
  const widget = new Widget(page);
  await expect(widget.questions()).toHaveText(["Explain this page to me."]);
  await widget.idle();
  const answer = widget.answers().last();
  await expect(answer).toContainText("You're on the Billing page of Acme Console, on the Pro plan.");
  await expect(answer.locator("li", { hasText: "Next invoice" }).locator("strong").first()).toHaveText("Next invoice");
  const sent = (await stack.log()).find((r) => r.path === "/v1/chat/completions")!;
  expect(JSON.stringify(sent.body.messages), "the page's context went with the question").toContain("billing");
});

test("the <ringside-chat> element answers with lists three deep, and follows its attributes", async ({ page, stack }) => {
  await visit(page, stack, "element.html");
  await expect(page.getByRole("dialog", { name: "Mission desk" })).toBeVisible();
  const widget = new Widget(page);
  await widget.log().getByRole("button", { name: "What can I fly on Roadrunner?" }).click();
  await widget.idle();
  const answer = widget.answers().last();
  await expect(answer.locator("ul ul ul li").first()).toHaveText("1U to 3U share a dispenser, so you can fly several at once");
  await expect(answer.locator("blockquote")).toContainText("six to eight weeks");
  await expect(answer.getByRole("link", { name: "payload user's guide" })).toHaveAttribute("href", "https://docs.acme-rockets.example/payload-guide");
  await page.getByRole("button", { name: "Rename it “Launch desk”" }).click();
  await expect(page.getByRole("dialog", { name: "Launch desk" })).toBeVisible();
  await expect(widget.questions(), "the conversation survives").toHaveText(["What can I fly on Roadrunner?"]);
  await page.getByRole("button", { name: "Switch to the dark theme" }).click();
  await expect(page.locator("ringside-chat [data-ringside-chat]")).toHaveAttribute("data-theme", "dark");
});

test("the themes page: the dark panel is dark, the automatic one follows the system", async ({ page, stack }) => {
  await visit(page, stack, "themes.html");
  const background = (id: string) =>
    page.locator(`#${id} .rsc-panel`).evaluate((el) => getComputedStyle(el).backgroundColor);
  await expect(page.getByRole("dialog", { name: "Dark" })).toBeVisible();
  await expect(page.getByRole("dialog", { name: "Automatic" })).toBeVisible();
  await page.emulateMedia({ colorScheme: "light" });
  await expect(page.locator("#system")).toHaveText("now light, as your system is");
  expect(await background("dark")).toBe("rgb(17, 24, 39)");
  expect(await background("auto")).toBe("rgb(255, 255, 255)");
  await page.emulateMedia({ colorScheme: "dark" });
  await expect(page.locator("#system")).toHaveText("now dark, as your system is");
  expect(await background("auto")).toBe("rgb(17, 24, 39)");
  // The host's accent reaches the automatic panel's send button.
  const send = page.getByRole("dialog", { name: "Automatic" }).getByRole("button", { name: "Send" });
  expect(await send.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe("rgb(194, 65, 12)");
});

test("the right-to-left page mirrors the widget and answers in Arabic, table and all", async ({ page, stack }) => {
  await visit(page, stack, "rtl.html");
  const launcher = page.getByRole("button", { name: "افتح المحادثة" });
  const box = (await launcher.boundingBox())!;
  expect(box.x, "the launcher sits in the left corner").toBeLessThan(page.viewportSize()!.width / 2);
  await launcher.click();
  const dialog = page.getByRole("dialog", { name: "اسأل أكمي" });
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: "ما هي خططكم وأسعارها؟" }).click();
  const widget = new Widget(page);
  await expect(widget.log()).toHaveAttribute("aria-busy", "false", { timeout: 20_000 });
  const answer = widget.log().locator("article").last();
  await expect(answer).toContainText("أكمي للصواريخ");
  expect(await answer.evaluate((el) => getComputedStyle(el).direction)).toBe("rtl");
  await expect(answer.locator("table thead th").first()).toHaveText("الخطة");
  await expect(answer.locator("ol > li pre").first()).toHaveText("acme login");
});

test.describe("the states page: each failure, then its recovery", () => {
  test("out of credit: the question waits, the box locks, and mounting again after a top-up answers", async ({ page, stack }) => {
    await visit(page, stack, "states.html");
    const widget = new Widget(page);
    await expect(widget.dialog()).toBeVisible();
    await page.getByRole("button", { name: "Empty the wallet" }).click();
    await expect(page.getByRole("list", { name: "Activity" })).toContainText("wallet empty (402)");
    await widget.send("Are you there?");
    await expect(widget.dialog().getByRole("alert")).toHaveText("This chat is out of credit for now. Please come back later.");
    await expect(widget.input()).toBeDisabled();
    await expect(widget.questions().first()).toContainText("Not sent.");
    await page.getByRole("button", { name: "Top up: mount the chat again" }).click();
    await expect(widget.input()).toBeEnabled();
    await expect(widget.questions().first(), "the conversation is still there").toContainText("Are you there?");
    await widget.ask("How much is the Pro plan?");
    await expectPricingTable(widget.answers().last());
  });

  test("rate limit: the countdown runs out, and Retry sends the question", async ({ page, stack }) => {
    await visit(page, stack, "states.html");
    const widget = new Widget(page);
    await expect(widget.dialog()).toBeVisible();
    await page.getByLabel("Wait").fill("2");
    await page.getByRole("button", { name: "Hit the rate limit" }).click();
    await expect(page.getByRole("list", { name: "Activity" })).toContainText("retry after 2 s");
    await widget.send("What can I fly?");
    const notice = widget.dialog().getByRole("status").filter({ hasText: "You can send again in" });
    await expect(notice).toBeVisible();
    await expect(widget.button("Send")).toBeDisabled();
    await expect(notice).toBeHidden({ timeout: 6_000 });
    await widget.questions().first().getByRole("button", { name: "Retry" }).click();
    await widget.idle();
    await expect(widget.questions().first()).not.toContainText("Not sent.");
    await expect(widget.answers().last()).toContainText("Roadrunner flies to low Earth orbit");
  });

  test("connection lost: the partial answer stays, marked interrupted, and Retry answers in full", async ({ page, stack }) => {
    await visit(page, stack, "states.html");
    const widget = new Widget(page);
    await expect(widget.dialog()).toBeVisible();
    await page.getByRole("button", { name: "Cut the next answer short" }).click();
    await expect(page.getByRole("list", { name: "Activity" })).toContainText("break after 40 tokens");
    await widget.ask("What can I fly on Roadrunner?");
    const answer = widget.answers().last();
    await expect(answer).toContainText("The answer was interrupted.");
    await expect(answer).toContainText("Roadrunner flies to low Earth orbit");
    await expect(answer).not.toContainText("payload user's guide");
    await answer.getByRole("button", { name: "Retry" }).click();
    await widget.idle();
    await expect(widget.answers().last()).toContainText("payload user's guide");
    await expect(widget.answers().last()).not.toContainText("interrupted");
    await expect(page.getByRole("list", { name: "Activity" })).toContainText("widget: an answer finished");
  });

  test("token revoked: the widget gets a new token by itself and the answer arrives", async ({ page, stack }) => {
    await visit(page, stack, "states.html");
    const widget = new Widget(page);
    await widget.ask("Hello");
    await expect(widget.answers().last()).toContainText("I'm the Acme Rockets assistant");
    await page.getByRole("button", { name: "Revoke the token" }).click();
    const activity = page.getByRole("list", { name: "Activity" });
    await expect(activity).toContainText("revoked 1 live Client Token.");
    await widget.ask("How does this chat work?");
    await expect(widget.answers().last()).toContainText("This chat is Ringside Chat");
    await expect(widget.answers().last().getByRole("link", { name: "What visitors see when things go wrong" })).toHaveAttribute(
      "href",
      `${stack.mintUrl}/states.html`,
    );
    const chats = (await stack.log()).filter((r) => r.path === "/v1/chat/completions").map((r) => r.status);
    expect(chats, "refused once, then answered with a new token").toEqual([200, 401, 200]);
    await expect(activity).toContainText("/v1/chat/completions → 401");
    await expect(activity.getByText("widget: fetched a Client Token")).toHaveCount(2);
  });
});
