// Issue #5: accessible to everyone: names, focus, the live log, and an
// axe-core audit with zero violations when open, streaming and in error.
import { test, expect, Widget } from "./stack";
import { createRequire } from "node:module";
import type { Page } from "@playwright/test";

const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

async function audit(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: axePath });
  return page.evaluate(async () => {
    const axe = (window as any).axe;
    const host = document.querySelector("[data-ringside-chat]");
    const result = await axe.run(host, { resultTypes: ["violations"] });
    return result.violations.map((v: any) => `${v.id}: ${v.nodes.map((n: any) => n.target.join(" ")).join(", ")}`);
  });
}

test("the widget has no axe violations when open, while streaming, and in an error state", async ({ page, stack }) => {
  await stack.script(
    { token_count: 200, token_delay_ms: 20 },
    { fault: { kind: "status", status: 402, code: "customer_wallet_empty" } },
  );
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  expect(await audit(page), "closed").toEqual([]);
  await widget.open();
  expect(await audit(page), "open").toEqual([]);
  await widget.send("Stream something");
  await expect(widget.log()).toHaveAttribute("aria-busy", "true");
  expect(await audit(page), "streaming").toEqual([]);
  await widget.idle();
  await widget.send("And now?");
  await expect(widget.dialog().getByRole("alert")).toBeVisible();
  expect(await audit(page), "error").toEqual([]);
});

test("open focuses the input; Escape closes and returns focus to the launcher", async ({ page, stack }) => {
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.launcher().focus();
  await page.keyboard.press("Enter");
  await expect(widget.dialog()).toBeVisible();
  await expect(widget.input()).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(widget.dialog()).toBeHidden();
  await expect(widget.launcher()).toBeFocused();
  await expect(widget.launcher()).toHaveAttribute("aria-expanded", "false");
});

test("the transcript is a live log, busy while an answer streams", async ({ page, stack }) => {
  // The typing status stands in for the answer until its first words show,
  // so the model takes a visible moment to start here.
  await stack.script({ first_token_delay_ms: 1500, token_count: 150, token_delay_ms: 20 });
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await expect(widget.log()).toHaveAttribute("aria-live", "polite");
  await widget.send("Hi");
  await expect(widget.log()).toHaveAttribute("aria-busy", "true");
  await expect(widget.answers().last().getByRole("status")).toHaveText("Assistant is typing");
  // Once text shows, the text is what is read; the log stays busy until the end.
  await expect(widget.answers().last().locator(".rsc-msg__body")).not.toBeEmpty();
  await expect(widget.answers().last().getByRole("status")).toHaveCount(0);
  await expect(widget.log()).toHaveAttribute("aria-busy", "true");
  await widget.idle();
  await expect(widget.log()).toHaveAttribute("aria-busy", "false");
});
