// The README's screenshots, taken from a running demo by Debian's headless
// Chromium: `cargo xtask screenshots` starts the demo on free ports and runs
// `node screenshots.mjs <demo url> <out dir>`.
//
// Each shot is the demo's marketing page (its site and widget follow the
// system's theme) with the chat open and a streamed answer finished: the
// pricing table in light, numbered install steps with code in dark, on a
// desktop and on a phone.
import { chromium } from "@playwright/test";
import path from "node:path";

import { chromiumFlags } from "./chromium.mjs";

const [site, out] = process.argv.slice(2);
if (!site || !out) {
  console.error("usage: node screenshots.mjs <demo url> <out dir>");
  process.exit(2);
}

const SHOTS = [
  { name: "desktop-light", scheme: "light", ask: "Compare your plans in a table", at: "table" },
  { name: "desktop-dark", scheme: "dark", ask: "How do I install the CLI?", at: "ol" },
  { name: "phone-light", scheme: "light", ask: "Compare your plans in a table", at: "table", phone: true },
  { name: "phone-dark", scheme: "dark", ask: "How do I install the CLI?", at: "ol", phone: true },
];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: chromiumFlags(),
});
try {
  for (const shot of SHOTS) {
    const context = await browser.newContext({
      colorScheme: shot.scheme,
      viewport: shot.phone ? { width: 390, height: 844 } : { width: 1280, height: 800 },
      deviceScaleFactor: shot.phone ? 2 : 1,
      isMobile: !!shot.phone,
      hasTouch: !!shot.phone,
    });
    const page = await context.newPage();
    await page.goto(`${site}/marketing.html`);
    await page.getByRole("button", { name: "Open chat" }).click();
    const input = page.getByRole("textbox", { name: "Message" });
    await input.fill(shot.ask);
    await input.press("Enter");
    const log = page.getByRole("log");
    await log.locator("article[aria-label=Assistant]").waitFor();
    await page.waitForFunction(
      () => document.querySelector("[data-ringside-chat]")?.shadowRoot?.querySelector("[role=log]")?.getAttribute("aria-busy") === "false",
      null,
      { timeout: 60_000 },
    );
    // Show the answer from its first table or list (its start if it has none).
    const answer = log.locator("article[aria-label=Assistant]").last();
    const target = (await answer.locator(shot.at).count()) ? answer.locator(shot.at).first() : answer;
    await target.evaluate((el) => el.scrollIntoView({ block: "start" }));
    await log.evaluate((el) => (el.scrollTop -= 56));
    await input.blur();
    await page.mouse.move(0, 0);
    const file = path.join(out, `${shot.name}.png`);
    await page.screenshot({ path: file, animations: "disabled", caret: "hide" });
    console.log(`wrote ${file}`);
    await context.close();
  }
} finally {
  await browser.close();
}
