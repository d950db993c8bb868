// Issue #13: with --visitor-challenge the mint makes a new visitor solve a
// proof-of-work (ALTCHA's scheme) before it becomes a Ringside customer. The
// widget solves it while it prefetches the token, unseen, and the question
// is answered as usual. The solving time in headless Chromium is measured
// and attached to the report (BENCHMARKS.md quotes it).
import { test, expect, CHUNK, Widget, VISITOR_COOKIE } from "./stack";

for (const maxNumber of ["100000", "1000000"]) {
  test.describe(`a challenge of up to ${maxNumber} tries`, () => {
    test.use({ mintSetup: { flags: ["--visitor-challenge", "--visitor-challenge-max-number", maxNumber] } });

    test(`the widget solves it unseen and the visitor chats as usual (max ${maxNumber})`, async ({ page, stack }, info) => {
      const answers: { status: number; at: number; solution: string | null }[] = [];
      page.on("response", async (response) => {
        if (!response.url().endsWith("/api/chat-token")) return;
        const at = Date.now();
        // Counted only once its request's header is read: the poll below
        // must not see a status whose solution is still on its way.
        const solution = await response.request().headerValue("x-ringside-challenge");
        answers.push({ status: response.status(), at, solution });
        answers.sort((a, b) => a.at - b.at);
      });
      let sentWithSolution = 0;
      page.on("request", (request) => {
        if (request.url().endsWith("/api/chat-token") && request.headers()["x-ringside-challenge"]) {
          sentWithSolution = Date.now();
        }
      });
      await page.goto(stack.pageUrl);
      const widget = new Widget(page);
      await widget.launcher().hover();
      await expect.poll(() => answers.map((a) => a.status), { timeout: 20_000 }).toEqual([401, 200]);
      expect(answers[0].solution, "the first request carries no solution").toBeNull();
      expect(answers[1].solution, "the second carries one").not.toBeNull();
      const solution = JSON.parse(Buffer.from(answers[1].solution!, "base64").toString());
      const solveMs = sentWithSolution - answers[0].at;
      const perMillion = (solveMs / (solution.number + 1)) * 1e6;
      const report = `max ${maxNumber}: number ${solution.number} found and sent ${solveMs} ms after the challenge arrived (${Math.round(perMillion)} ms per million tries)`;
      info.annotations.push({ type: "challenge", description: report });
      console.log(`challenge ${report}`);

      await widget.launcher().click();
      await widget.ask("Hello after the puzzle");
      await expect(widget.answers().last()).not.toContainText("interrupted");
      const cookies = await page.context().cookies();
      expect(cookies.map((c) => c.name), "a known visitor now").toContain(VISITOR_COOKIE);
    });
  });
}

// The solver comes with the answers' wasm chunk (src/chunk.rs), which the
// prefetch on hover starts loading beside the token.
test.describe("a challenge while the answers' chunk cannot be fetched", () => {
  test.use({ mintSetup: { flags: ["--visitor-challenge", "--visitor-challenge-max-number", "100000"] } });

  test("the question is kept, the visitor is told, and Retry solves it once the chunk loads", async ({ page, stack }) => {
    const statuses: number[] = [];
    page.on("response", (response) => {
      if (response.url().endsWith("/api/chat-token")) statuses.push(response.status());
    });
    await page.route(CHUNK, (route) => route.abort("connectionfailed"));
    await page.goto(stack.pageUrl);
    const widget = new Widget(page);
    await widget.open();
    await widget.send("Hello behind the puzzle");
    const question = widget.questions().last();
    await expect(question.getByRole("button", { name: "Retry" })).toBeVisible({ timeout: 15_000 });
    expect(statuses.every((s) => s == 401), "no solution was sent").toBe(true);
    await expect(question).toContainText("Not sent. Chat is unavailable on this page.");

    await page.unroute(CHUNK);
    await question.getByRole("button", { name: "Retry" }).click();
    await widget.idle();
    await expect(widget.answers().last()).not.toContainText("interrupted");
    await expect(widget.answers()).toHaveCount(1);
    expect(statuses.at(-1)).toBe(200);
  });
});
