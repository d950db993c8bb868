// The servers a browser test talks to: a mock Ringside and a mint server
// (which also serves the built demo page), both fresh for each test, on
// loopback ports the OS picks. Each test gets its own, so mock state, clock
// and scripted faults never leak between tests.
import { test as base, expect, type Page, type Locator } from "@playwright/test";
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";

const BIN_DIR = process.env.RINGSIDE_BIN_DIR ?? path.resolve(import.meta.dirname, "../../target/debug");
const DIST = process.env.RINGSIDE_DIST ?? path.resolve(import.meta.dirname, "../../dist");
export const API_KEY = "sk_test_e2e";

/** Flags for the mock, e.g. `["--token-delay-ms", "5"]`. */
export type MockFlags = string[];
/** Extra flags and environment for the mint, e.g. `{ flags: ["--identity", "session"], env: {…} }`. */
export type MintSetup = { flags?: string[]; env?: Record<string, string> };

/** One scripted completion of the mock (see server/mock/CONTROLS.md). */
export interface Script {
  text?: string;
  tokens?: string[];
  token_count?: number;
  first_token_delay_ms?: number;
  token_delay_ms?: number;
  fault?:
    | { kind: "drop"; after: number }
    | { kind: "error"; after: number; code: string; message: string }
    | { kind: "malformed"; after: number }
    | { kind: "status"; status: number; code: string; message?: string; retry_after?: number }
    | { kind: "stall"; after: number };
}

/** A request the mock saw (its `/__mock/log`). */
export interface Logged {
  method: string;
  path: string;
  status: number;
  auth: "bearer" | "client" | "none";
  customer_id: string | null;
  body: any;
}

export interface Stack {
  /** The demo page, served by the mint server. */
  pageUrl: string;
  /** The mock gateway's base URL. */
  mockUrl: string;
  /** The mint server's base URL. */
  mintUrl: string;
  /** Calls the mock with the server API key. */
  mockApi(pathname: string, init?: RequestInit): Promise<Response>;
  /** Queues scripted completions. */
  script(...completions: Script[]): Promise<void>;
  /** Moves the mock's clock. */
  advanceClock(seconds: number): Promise<void>;
  /** What the mock saw. */
  log(): Promise<Logged[]>;
  /** A page on the host's origin with the widget's script tag and these `data-*` options. */
  hostPage(page: Page, options?: Record<string, string>, extraHead?: string): Promise<void>;
  /** Writes a file into the host's site; returns its URL. */
  writePage(name: string, html: string): string;
  /** Copies a folder into the host's site under `name`; returns its URL. */
  copyDir(from: string, name: string): string;
  /** A second origin serving the widget's files with CORS, like a CDN. */
  cdn(): Promise<string>;
  /** Stops the mock: Ringside is down (the mint's upstream calls are refused). */
  stopMock(): Promise<void>;
  /** Starts a fresh mock on the stopped one's port (new state, new signing key). */
  restartMock(): Promise<void>;
}

const MIME: Record<string, string> = {
  ".js": "text/javascript",
  ".wasm": "application/wasm",
  ".html": "text/html",
  ".css": "text/css",
};

/** A static server for `dir` on a free loopback port, answering CORS for any origin. */
function staticServer(dir: string): Promise<{ url: string; server: Server }> {
  return new Promise((resolve) => {
    const server = createHttpServer((req, res) => {
      const name = path.basename(new URL(req.url ?? "/", "http://x").pathname);
      try {
        const body = readFileSync(path.join(dir, name));
        res.writeHead(200, {
          "content-type": MIME[path.extname(name)] ?? "application/octet-stream",
          "access-control-allow-origin": "*",
          "cache-control": "no-store",
        });
        res.end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      resolve({ url: `http://127.0.0.1:${port}`, server });
    });
  });
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

export const EXAMPLES = path.resolve(import.meta.dirname, "../../examples");

/** The path of the answers' wasm chunk (src/chunk.rs): the Markdown
 * renderer, the rating and a mint challenge's solver, fetched when the
 * panel opens or the launcher is hovered; its name carries its hash. */
export const CHUNK = /\/ringside-chat-answers-[0-9a-f]{16}\.wasm$/;

export const test = base.extend<{ mockFlags: MockFlags; mintSetup: MintSetup; stack: Stack }>({
  mockFlags: [["--first-token-delay-ms", "100", "--token-delay-ms", "15", "--answer-tokens", "40"], { option: true }],
  mintSetup: [{}, { option: true }],
  stack: async ({ mockFlags, mintSetup }, use) => {
    let mock = await start("ringside-mock", ["--listen", "127.0.0.1:0", "--controls", ...mockFlags], { RINGSIDE_MOCK_API_KEY: API_KEY });
    const port = await freePort();
    const mintUrl = `http://127.0.0.1:${port}`;
    // The site this test's pages come from: the built widget and demo page,
    // plus whatever host pages the test writes. Served over real HTTP from
    // 127.0.0.1, as a browser's private-network rules expect of a local site.
    const site = mkdtempSync(path.join(tmpdir(), "ringside-e2e-"));
    for (const file of readdirSync(DIST)) symlinkSync(path.join(DIST, file), path.join(site, file));
    let pages = 0;
    const mint = await start(
      "ringside-mint",
      ["--listen", `127.0.0.1:${port}`, "--ringside-url", mock.url, "--allowed-origin", mintUrl, "--static-dir", site, ...(mintSetup.flags ?? [])],
      { FC_API_KEY: API_KEY, RINGSIDE_MINT_COOKIE_SECRET: "e2e-cookie-secret-of-at-least-32-bytes", ...(mintSetup.env ?? {}) },
    );
    const mockApi = (pathname: string, init: RequestInit = {}) =>
      fetch(mock.url + pathname, {
        ...init,
        headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json", ...(init.headers ?? {}) },
      });
    const control = async (pathname: string, body: unknown) => {
      const response = await mockApi(`/__mock/${pathname}`, { method: "POST", body: JSON.stringify(body) });
      expect(response.ok, `the mock accepts /__mock/${pathname}`).toBe(true);
    };
    const stack: Stack = {
      pageUrl: `${mintUrl}/`,
      mockUrl: mock.url,
      mintUrl,
      mockApi,
      script: (...completions) => control("script", { completions }),
      advanceClock: (seconds) => control("clock", { advance_secs: seconds }),
      log: async () => (await (await mockApi("/__mock/log")).json()).requests,
      hostPage: async (page, options = {}, extraHead = "") => {
        const attrs = Object.entries({ "token-endpoint": "/api/chat-token", title: "Help", ...options })
          .map(([k, v]) => ` data-${k}="${v.replace(/&/g, "&amp;").replace(/"/g, "&quot;")}"`)
          .join("");
        const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host</title>${extraHead}</head>
<body><main><h1>A host page</h1><p>Content.</p></main><script src="/ringside-chat.js"${attrs} async></script></body></html>`;
        const name = `host-${++pages}.html`;
        writeFileSync(path.join(site, name), html);
        await page.goto(`${mintUrl}/${name}`);
      },
      writePage: (name, html) => {
        writeFileSync(path.join(site, name), html);
        return `${mintUrl}/${name}`;
      },
      copyDir: (from, name) => {
        cpSync(from, path.join(site, name), { recursive: true });
        return `${mintUrl}/${name}/`;
      },
      cdn: async () => {
        if (!cdn) cdn = await staticServer(DIST);
        return cdn.url;
      },
      stopMock: async () => {
        const child = mock.child;
        child.removeAllListeners("exit");
        if (child.exitCode === null) {
          const exited = new Promise((resolve) => child.once("exit", resolve));
          child.kill();
          await exited;
        }
      },
      restartMock: async () => {
        const listen = new URL(mock.url).host;
        mock = await start("ringside-mock", ["--listen", listen, "--controls", ...mockFlags], { RINGSIDE_MOCK_API_KEY: API_KEY });
      },
    };
    let cdn: { url: string; server: Server } | null = null;
    await use(stack);
    for (const child of [mint.child, mock.child]) {
      child.removeAllListeners("exit");
      child.kill();
    }
    rmSync(site, { recursive: true, force: true });
    (cdn as { server: Server } | null)?.server.close();
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

  button(name: string): Locator {
    return this.dialog().getByRole("button", { name, exact: true });
  }

  answers(): Locator {
    return this.log().locator("article[aria-label=Assistant]");
  }

  questions(): Locator {
    return this.log().locator("article[aria-label=You]");
  }

  /** Waits until no answer is streaming. */
  async idle(): Promise<void> {
    await expect(this.log()).toHaveAttribute("aria-busy", "false", { timeout: 20_000 });
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

  /** Sends and waits for the answer to finish. */
  async ask(text: string): Promise<void> {
    await this.send(text);
    await expect(this.questions().last()).toContainText(text);
    await this.idle();
  }
}

/**
 * How far the end of the log's last message is below the log's view (0 when
 * in view): what the reader sees, whichever way the log scrolls. Runs in the
 * page (`locator.evaluate`, or its source in a WebDriver script).
 */
export const belowView = (log: Element): number => {
  const messages = log.querySelectorAll(".rsc-msg");
  const last = messages[messages.length - 1];
  return last ? Math.max(0, last.getBoundingClientRect().bottom - log.getBoundingClientRect().bottom) : 0;
};

/** The mint's cookie for an anonymous visitor, on http pages (server/mint/src/identity.rs). */
export const VISITOR_COOKIE = "ringside_visitor";

/** `text` without its white space: how an answer's Markdown and the text it renders as compare. */
export const words = (text: string): string => text.replace(/\s+/g, "");

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

export type Counts = { workers: number; messages: number; bytes: number; texts: number };

/**
 * Before the page loads: counts the workers it starts, the messages they
 * send it, and of an answer's batches, those handed over as bytes and those
 * as decoded text.
 */
export async function countWorkers(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { __counts: Counts; Worker: typeof Worker };
    w.__counts = { workers: 0, messages: 0, bytes: 0, texts: 0 };
    const Native = w.Worker;
    w.Worker = function (url: string | URL, options?: WorkerOptions) {
      w.__counts.workers++;
      const worker = new Native(url, options);
      worker.addEventListener("message", ({ data }) => {
        w.__counts.messages++;
        if (data?.batch instanceof Uint8Array) w.__counts.bytes++;
        else if (data?.batch?.utf8 instanceof Uint8Array) w.__counts.texts++;
      });
      return worker;
    } as unknown as typeof Worker;
  });
}

/** What [`countWorkers`] has counted. */
export function workerCounts(page: Page): Promise<Counts> {
  return page.evaluate(() => ({ ...(window as unknown as { __counts: Counts }).__counts }));
}
