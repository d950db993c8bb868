// Issue #5: nothing from the model becomes HTML. Hostile answers, split
// across deltas at awkward points, are checked after every painted frame:
// no script, no frame, no event-handler attribute, no link outside http,
// https and mailto, and nothing ran.
import { test, expect, Widget } from "./stack";

const payloads: string[][] = [
  ["<scr", "ipt>window.__pwned=1</scr", "ipt>"],
  ["<img src=x one", "rror=\"window.__pwned=1\">"],
  ["<svg onload=window.__pwned=1>", "</svg>"],
  ["<iframe src=\"javascript:window.__pwned=1\"></ifr", "ame>"],
  ["[click me](javas", "cript:window.__pwned=1)"],
  ["[x](JaVaScRiPt:window.__pwned=1) [y](data:text/html,<script>window.__pwned=1</script>)"],
  ["![img](https://example.com/x.png\" onerror=\"window.__pwned=1)"],
  ["<a href=\"javascript:window.__pwned=1\">a</a> <", "https://ok.example/>"],
  ["`<b>code</b>` **<u>bold</u>** ", "```html\n<script>window.__pwned=1</script>\n```"],
  ["<style>*{display:none}</style><object data=x></object><embed src=x><form action=x><input></form>"],
  ["[ok](https://fine.example/a?b=\"c\") and mailto:team@acme.test"],
];

test("hostile answers, split across deltas, never become markup or run", async ({ page, stack }) => {
  for (const tokens of payloads) await stack.script({ tokens, token_delay_ms: 40, first_token_delay_ms: 0 });
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await page.evaluate(() => {
    const w = window as any;
    w.__violations = [];
    const root = document.querySelector("[data-ringside-chat]")!.shadowRoot!;
    const check = () => {
      for (const el of root.querySelectorAll(".rsc-msg__body *")) {
        const tag = el.tagName.toLowerCase();
        const allowed = ["p", "h3", "h4", "h5", "h6", "strong", "em", "del", "code", "pre", "ul", "ol", "li", "blockquote", "a", "br", "hr",
          "div", "span", "button", "table", "thead", "tbody", "tr", "th", "td", "label", "input"];
        if (!allowed.includes(tag)) w.__violations.push(`element ${tag}`);
        for (const attr of el.getAttributeNames()) {
          if (attr.startsWith("on")) w.__violations.push(`attribute ${attr} on ${tag}`);
          const attrs = ["class", "href", "title", "rel", "target", "start", "type", "aria-label", "data-action", "tabindex", "checked", "disabled"];
          if (!attrs.includes(attr)) w.__violations.push(`attribute ${attr}`);
        }
        if (tag === "input" && (el.getAttribute("type") !== "checkbox" || !el.hasAttribute("disabled"))) {
          w.__violations.push("an input that is not a disabled checkbox");
        }
        if (tag === "a" && !/^(https?:\/\/|mailto:)/i.test(el.getAttribute("href") ?? "")) {
          w.__violations.push(`link ${el.getAttribute("href")}`);
        }
      }
      requestAnimationFrame(check);
    };
    check();
  });
  for (const [i, tokens] of payloads.entries()) {
    await widget.ask(`payload ${i}`);
    await expect(widget.answers()).toHaveCount(i + 1);
  }
  const violations = await page.evaluate(() => (window as any).__violations);
  expect(violations).toEqual([]);
  expect(await page.evaluate(() => (window as any).__pwned), "no payload ran").toBeUndefined();
  // The shown text of raw HTML is the text itself.
  await expect(widget.answers().first()).toContainText("<script>window.__pwned=1</script>");
  const safe = widget.answers().last().getByRole("link");
  await expect(safe).toHaveCount(2);
  await expect(safe.first()).toHaveAttribute("href", 'https://fine.example/a?b="c"');
  await expect(safe.last()).toHaveAttribute("href", "mailto:team@acme.test");
});

test("the user's own text is shown as typed, never as markup", async ({ page, stack }) => {
  await page.goto(stack.pageUrl);
  const widget = new Widget(page);
  await widget.open();
  await widget.ask("<img src=x onerror=window.__pwned=1> **not bold**");
  await expect(widget.questions().first()).toHaveText("<img src=x onerror=window.__pwned=1> **not bold**");
  expect(await page.evaluate(() => (window as any).__pwned)).toBeUndefined();
});
