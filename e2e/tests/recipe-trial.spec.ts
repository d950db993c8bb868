// The ARCHITECTURE recipe, followed once (not kept): an option, a string, a
// button and a reactive attribute, working together in the browser.
import { test, expect, Widget } from "./stack";

test("an expandable panel widens and narrows with its header button", async ({ page, stack }) => {
  await stack.hostPage(page, { expandable: "", strings: JSON.stringify({ expandPanel: "Bigger" }) });
  const widget = new Widget(page);
  await widget.open();
  const panel = widget.dialog();
  const button = panel.getByRole("button", { name: "Bigger" });
  await expect(button).toHaveAttribute("aria-pressed", "false");
  const narrow = (await panel.boundingBox())!.width;
  await button.click();
  await expect(button).toHaveAttribute("aria-pressed", "true");
  await expect.poll(async () => (await panel.boundingBox())!.width).toBeGreaterThan(narrow + 100);
  await button.click();
  await expect(button).toHaveAttribute("aria-pressed", "false");
  await expect.poll(async () => (await panel.boundingBox())!.width).toBe(narrow);
});
