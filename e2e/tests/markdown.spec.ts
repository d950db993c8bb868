// Issue #12: the answers models write most, streamed in small pieces that cut
// every construct mid-way, end as the structure the Markdown means, and
// while they stream no syntax flashes on screen and then vanishes.
import path from "node:path";
import { test, expect, CHUNK, Widget } from "./stack";
import type { Page, TestInfo } from "@playwright/test";

/** Keeps a screenshot as a test artifact: `e2e/test-results/screenshots/<name>.png`. */
async function shot(page: Page, info: TestInfo, name: string): Promise<void> {
  const file = path.join(info.project.outputDir, "screenshots", `${name}.png`);
  await info.attach(name, { body: await page.screenshot({ path: file }), contentType: "image/png" });
}

/** Cuts `text` into pieces of 1 to 4 characters, as a tokenizer might. */
function pieces(text: string): string[] {
  const out: string[] = [];
  let seed = 7;
  for (let i = 0; i < text.length; ) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const n = 1 + (seed % 4);
    out.push(text.slice(i, i + n));
    i += n;
  }
  return out;
}

/** Records the answer's text after every frame while it streams. */
async function watchFrames(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as any;
    w.__frames = [];
    const root = document.querySelector("[data-ringside-chat]")!.shadowRoot!;
    const watch = () => {
      const bodies = root.querySelectorAll("article.rsc-msg--assistant .rsc-msg__body");
      const last = bodies[bodies.length - 1] as HTMLElement | undefined;
      if (last) w.__frames.push(last.innerText);
      w.__watching = requestAnimationFrame(watch);
    };
    watch();
  });
}

async function frames(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    cancelAnimationFrame((window as any).__watching);
    return (window as any).__frames;
  });
}

const STEPS =
  "Here is how to set it up:\n\n1. Install the package:\n\n   ```bash\n   npm install acme-widget\n   ```\n\n" +
  "2. Add your key to `.env`:\n\n   ```ini\n   ACME_KEY=sk_live_123\n   ```\n\n3. Start it:\n   - **dev**: `npm run dev`\n     - watches *every* file\n       - even the ~~old~~ config\n   - prod: see [the guide](https://acme.test/guide)\n";
const TABLE =
  "Our plans compared:\n\n| Plan | Seats | Price |\n| :--- | :---: | ---: |\n| Free | 1 | $0 |\n| **Pro** | 10 | $10 |\n| Team \\| Org | ∞ | $99 |\n\n" +
  "- [x] SSO on Team\n- [ ] Audit log (soon)\n\n&copy; 2026 Acme &mdash; www.acme.test\n";

test("numbered steps with code in each, and lists nested three deep, stream into one structure", async ({ page, stack }, info) => {
  await stack.script({ tokens: pieces(STEPS), token_delay_ms: 4, first_token_delay_ms: 0 });
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await watchFrames(page);
  await widget.ask("How do I install it?");
  const answer = widget.answers().last();
  const body = answer.locator(".rsc-msg__body");

  await expect(body.locator(":scope > .rsc-volume > .rsc-chunk > ol, :scope > ol")).toHaveCount(1);
  const steps = body.locator("ol > li");
  await expect(steps).toHaveCount(3);
  await expect(steps.nth(0).locator("pre code")).toHaveText("npm install acme-widget");
  await expect(steps.nth(0).locator(".rsc-code__lang")).toHaveText("bash");
  await expect(steps.nth(1).locator("pre code")).toHaveText("ACME_KEY=sk_live_123");
  await expect(steps.nth(1).locator("p code")).toHaveText(".env");
  await expect(steps.nth(2).locator(":scope > ul > li > ul > li > ul > li")).toHaveText("even the old config");
  await expect(steps.nth(2).locator("del")).toHaveText("old");
  await expect(steps.nth(2).locator("strong")).toHaveText("dev");
  await expect(steps.nth(2).getByRole("link", { name: "the guide" })).toHaveAttribute("href", "https://acme.test/guide");
  await shot(page, info, "answer-steps");

  const shown = await frames(page);
  expect(shown.length, "the answer was watched while it streamed").toBeGreaterThan(10);
  for (const text of shown) {
    expect(text, "no fence flashes").not.toContain("```");
    expect(text, "no unclosed emphasis flashes").not.toMatch(/\*\*|~~/);
    expect(text, "no bare list marker flashes").not.toMatch(/^\s*(\d+\.|-)\s*$/m);
    expect(text, "no half-typed link flashes").not.toMatch(/\]\(|\[the/);
  }
});

test("a comparison table, a task list and entities stream without a pipe ever on screen", async ({ page, stack }, info) => {
  await stack.script({ tokens: pieces(TABLE), token_delay_ms: 4, first_token_delay_ms: 0 });
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await watchFrames(page);
  await widget.ask("Compare your plans");
  const body = widget.answers().last().locator(".rsc-msg__body");

  const table = body.getByRole("table");
  await expect(table.getByRole("columnheader")).toHaveText(["Plan", "Seats", "Price"]);
  await expect(table.locator("tbody tr")).toHaveCount(3);
  await expect(table.locator("tbody tr").nth(1).locator("td").first().locator("strong")).toHaveText("Pro");
  await expect(table.locator("tbody tr").nth(2).locator("td").first()).toHaveText("Team | Org");
  const align = await table.locator("tbody tr").first().locator("td").evaluateAll((cells) =>
    cells.map((c) => getComputedStyle(c).textAlign),
  );
  expect(align).toEqual(["left", "center", "right"]);

  const boxes = body.getByRole("checkbox");
  await expect(boxes).toHaveCount(2);
  await expect(body.getByRole("checkbox", { name: "SSO on Team" })).toBeChecked();
  await expect(body.getByRole("checkbox", { name: "Audit log (soon)" })).not.toBeChecked();
  await expect(boxes.first()).toBeDisabled();
  await expect(body).toContainText("© 2026 Acme — www.acme.test");
  await expect(body.getByRole("link", { name: "www.acme.test" })).toHaveAttribute("href", "http://www.acme.test");
  await shot(page, info, "answer-table");

  for (const text of await frames(page)) {
    // The one pipe the answer means is the escaped one in "Team | Org".
    expect(text.replace("Team |", ""), "no table syntax flashes").not.toMatch(/\||:--|---/);
    expect(text, "no task marker flashes").not.toMatch(/\[[ x]?\]?/);
    expect(text, "no half-typed entity stays").not.toMatch(/&[a-z]+;/);
  }
});

test("on a 360 px phone a wide table scrolls inside its own box, never the panel", async ({ page, stack }, info) => {
  const wide =
    "| Feature | Free | Starter | Pro | Team | Enterprise |\n|---|---|---|---|---|---|\n" +
    "| Conversations per month | 100 | 1,000 | 10,000 | 50,000 | unlimited |\n" +
    "| Single sign-on with your identity provider | no | no | no | yes | yes |\n";
  await stack.script({ tokens: pieces(wide), token_delay_ms: 2, first_token_delay_ms: 0 });
  await page.setViewportSize({ width: 360, height: 740 });
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await widget.ask("Compare every plan");
  const frame = widget.answers().last().locator(".rsc-table");
  await expect(frame.getByRole("row")).toHaveCount(3);
  const sizes = await frame.evaluate((el) => {
    const log = el.closest(".rsc-log") as HTMLElement;
    return { frame: [el.scrollWidth, el.clientWidth], log: [log.scrollWidth, log.clientWidth] };
  });
  expect(sizes.frame[0], "the table is wider than its box").toBeGreaterThan(sizes.frame[1]);
  expect(sizes.log[0], "the panel itself never scrolls sideways").toBeLessThanOrEqual(sizes.log[1]);
  await frame.focus();
  await page.keyboard.press("ArrowRight");
  await expect.poll(() => frame.evaluate((el) => el.scrollLeft), { message: "the keyboard scrolls it" }).toBeGreaterThan(0);
  await shot(page, info, "table-360px");
});

test("the Markdown renderer is fetched when the panel opens, not with the widget", async ({ page, stack }) => {
  await stack.script({ tokens: pieces(STEPS), token_delay_ms: 2, first_token_delay_ms: 0 });
  const fetched: string[] = [];
  page.on("request", (request) => fetched.push(new URL(request.url()).pathname));
  await page.goto(stack.pageUrl);
  // The widget's wasm mounts (a call that neither opens the panel nor
  // prepares a question), and the chunk is not part of it.
  await page.evaluate(() => (window as any).RingsideChat.ready.then((handle: any) => handle.setContext("pricing page")));
  expect(fetched.filter((p) => p.endsWith("_bg.wasm")), "the widget's wasm is loaded").toHaveLength(1);
  await page.waitForTimeout(300);
  expect(fetched.filter((p) => CHUNK.test(p)), "the answers chunk waits for the panel").toHaveLength(0);

  const widget = new Widget(page);
  const chunk = page.waitForResponse((response) => CHUNK.test(new URL(response.url()).pathname));
  await widget.open();
  expect((await chunk).status()).toBe(200);
  await widget.ask("How do I install it?");
  const steps = widget.answers().last().locator(".rsc-msg__body ol > li");
  await expect(steps).toHaveCount(3);
  await expect(steps.nth(0).locator("pre code")).toHaveText("npm install acme-widget");
  expect(fetched.filter((p) => CHUNK.test(p)), "fetched once").toHaveLength(1);
});

test("if the Markdown renderer cannot be fetched, the answer shows as plain text, and the next one is rendered", async ({ page, stack }) => {
  const first = "Two steps:\n\n1. **Install** it\n2. Run it\n";
  const second = "Then **check** the log.\n";
  await stack.script(
    { tokens: pieces(first), token_delay_ms: 2, first_token_delay_ms: 0 },
    { tokens: pieces(second), token_delay_ms: 2, first_token_delay_ms: 0 },
  );
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  await page.route(CHUNK, (route) => route.abort("connectionfailed"));
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await widget.ask("How do I install it?");
  const plain = widget.answers().last().locator(".rsc-msg__body .rsc-plain");
  // Nothing of the answer is lost: its text exactly, line breaks kept.
  await expect.poll(() => plain.evaluate((el) => el.textContent)).toBe(first);
  await expect(plain).toHaveCSS("white-space", "pre-wrap");
  expect(errors.join("\n")).toContain("the Markdown renderer, ratings and stored conversations did not load");
  // The rating comes with the chunk too: none yet, the other actions are there.
  await expect(widget.answers().last().locator(".rsc-msg__actions button")).not.toHaveCount(0);
  await expect(widget.log().locator(".rsc-rate")).toHaveCount(0);

  // The network is back, slowly: the next question's try to load it ends
  // only after that answer has: it is shown as text too, without a rating.
  await page.unroute(CHUNK);
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route(CHUNK, async (route) => {
    await held;
    await route.continue();
  });
  await widget.ask("And then?");
  const next = widget.answers().last().locator(".rsc-msg__body .rsc-plain");
  await expect.poll(() => next.evaluate((el) => el.textContent)).toBe(second);
  await expect(widget.log().locator(".rsc-rate")).toHaveCount(0);

  // Once it is in, the answer is rendered,
  release();
  const body = widget.answers().last().locator(".rsc-msg__body");
  await expect(body.locator("strong")).toHaveText("check");
  // and the first answer, shown as text, is now shown as what it means;
  const earlier = widget.answers().first().locator(".rsc-msg__body");
  await expect(earlier.locator("ol > li")).toHaveText(["Install it", "Run it"]);
  await expect(widget.log().locator(".rsc-plain")).toHaveCount(0);
  // and both answers can be rated, though neither was being painted then.
  await expect(widget.log().locator(".rsc-rate"), "both answers can be rated").toHaveCount(4);
});
