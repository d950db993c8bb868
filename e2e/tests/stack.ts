// The servers a browser test talks to: a mock Ringside and a mint server
// (which also serves the built demo page), both fresh for each test, on
// loopback ports the OS picks. Each test gets its own, so mock state, clock
// and scripted faults never leak between tests.
import { test as base, expect, type Page, type Locator } from "@playwright/test";
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";

const BIN_DIR = process.env.RINGSIDE_BIN_DIR ?? path.resolve(import.meta.dirname, "../../target/debug");
const DIST = process.env.RINGSIDE_DIST ?? path.resolve(import.meta.dirname, "../../dist");
export const API_KEY = "sk_test_e2e";

/** Flags for the mock, e.g. `["--token-delay-ms", "5"]`. */
export type MockFlags = string[];

export interface Stack {
  /** The demo page, served by the mint server. */
  pageUrl: string;
  /** The mock gateway's base URL. */
  mockUrl: string;
  /** The mint server's base URL. */
  mintUrl: string;
  /** Calls the mock with the server API key. */
  mockApi(pathname: string, init?: RequestInit): Promise<Response>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts a binary and resolves with the URL of its `listening on` line. */
function start(binary: string, args: string[], env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(BIN_DIR, binary), args, {
      env: { ...process.env, RUST_LOG: "warn", ...env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let buffered = "";
    const timer = setTimeout(() => reject(new Error(`${binary} did not start in 15 s`)), 15_000);
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`${binary} exited with ${code} before listening`)));
    child.stdout!.on("data", (data: Buffer) => {
      buffered += data.toString();
      const match = buffered.match(/listening on (\S+)/);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1] });
      }
    });
  });
}

export const test = base.extend<{ mockFlags: MockFlags; stack: Stack }>({
  mockFlags: [["--first-token-delay-ms", "100", "--token-delay-ms", "15", "--answer-tokens", "40"], { option: true }],
  stack: async ({ mockFlags }, use) => {
    const mock = await start("ringside-mock", ["--listen", "127.0.0.1:0", ...mockFlags], { RINGSIDE_MOCK_API_KEY: API_KEY });
    const port = await freePort();
    const mintUrl = `http://127.0.0.1:${port}`;
    const mint = await start(
      "ringside-mint",
      ["--listen", `127.0.0.1:${port}`, "--ringside-url", mock.url, "--allowed-origin", mintUrl, "--static-dir", DIST],
      { FC_API_KEY: API_KEY, RINGSIDE_MINT_COOKIE_SECRET: "e2e-cookie-secret-of-at-least-32-bytes" },
    );
    const stack: Stack = {
      pageUrl: `${mintUrl}/`,
      mockUrl: mock.url,
      mintUrl,
      mockApi: (pathname, init = {}) =>
        fetch(mock.url + pathname, {
          ...init,
          headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json", ...(init.headers ?? {}) },
        }),
    };
    await use(stack);
    for (const child of [mint.child, mock.child]) {
      child.removeAllListeners("exit");
      child.kill();
    }
  },
});

export { expect };

/** The widget as a user meets it: found by roles and names only. */
export class Widget {
  constructor(readonly page: Page) {}

  launcher(): Locator {
    return this.page.getByRole("button", { name: "Open chat" });
  }

  dialog(): Locator {
    return this.page.getByRole("dialog");
  }

  input(): Locator {
    return this.page.getByRole("textbox", { name: "Message" });
  }

  log(): Locator {
    return this.page.getByRole("log");
  }

  async open(): Promise<void> {
    await this.launcher().click();
    await expect(this.dialog()).toBeVisible();
  }

  async send(text: string): Promise<void> {
    await this.input().fill(text);
    await this.input().press("Enter");
  }
}

/** The mock's answer to a one-message conversation, asked without streaming. */
export async function expectedAnswer(stack: Stack, text: string, model = "fc:openai/gpt-4o-mini"): Promise<string> {
  const response = await stack.mockApi("/v1/chat/completions", {
    method: "POST",
    body: JSON.stringify({ model, messages: [{ role: "user", content: text }] }),
  });
  expect(response.status, "the mock answers a server's non-streaming call").toBe(200);
  const completion = await response.json();
  return completion.choices[0].message.content;
}
