// A small W3C WebDriver (classic) client, and how each engine of the
// cross-browser subset starts: Debian's Chromium through chromedriver,
// Debian's Firefox ESR through geckodriver, and WebKitGTK's MiniBrowser
// through WebKitWebDriver under Xvfb. Playwright drives only its own patched
// Firefox and WebKit builds, which we never download; WebDriver is the one
// protocol all three Debian engines speak. Every browser reaches loopback
// only (see the flags and prefs below).
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

import { chromiumFlags } from "../chromium.mjs";

export type Engine = "chromium" | "firefox" | "webkit";

/** An element reference, as WebDriver hands it over. */
export type ElementRef = { "element-6066-11e4-a52e-4f735466cecf": string };
const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

/** Where each engine's driver and browser are (Debian's packages; geckodriver from crates.io). */
export const ENGINES = {
  chromium: { driver: "/usr/bin/chromedriver", browser: process.env.CHROMIUM ?? "/usr/bin/chromium" },
  firefox: { driver: process.env.GECKODRIVER ?? "geckodriver", browser: "/usr/bin/firefox-esr" },
  webkit: { driver: "/usr/bin/WebKitWebDriver", browser: process.env.MINIBROWSER ?? minibrowser() },
} as const;

function minibrowser(): string {
  for (const api of ["webkit2gtk-4.1", "webkit2gtk-4.0", "webkitgtk-6.0"]) {
    const candidate = `/usr/lib/x86_64-linux-gnu/${api}/MiniBrowser`;
    if (existsSync(candidate)) return candidate;
  }
  return "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";
}

/** Firefox preferences: nothing leaves loopback (geckodriver's own automation prefs do most of it). */
const FIREFOX_PREFS = {
  "app.update.disabledForTesting": true,
  "browser.safebrowsing.malware.enabled": false,
  "browser.safebrowsing.phishing.enabled": false,
  "browser.safebrowsing.downloads.enabled": false,
  "datareporting.healthreport.uploadEnabled": false,
  "datareporting.policy.dataSubmissionEnabled": false,
  "toolkit.telemetry.enabled": false,
  "network.captive-portal-service.enabled": false,
  "network.connectivity-service.enabled": false,
  "network.dns.disablePrefetch": true,
  "network.prefetch-next": false,
  "extensions.getAddons.cache.enabled": false,
  "browser.newtabpage.enabled": false,
  "browser.startup.page": 0,
};

function capabilities(engine: Engine): object {
  const { browser } = ENGINES[engine];
  switch (engine) {
    case "chromium":
      return {
        browserName: "chrome",
        "goog:chromeOptions": { binary: browser, args: [...chromiumFlags(), "--headless=new", "--window-size=1280,800"] },
      };
    case "firefox":
      return {
        browserName: "firefox",
        "moz:firefoxOptions": { binary: browser, args: ["-headless", "-width", "1280", "-height", "800"], prefs: FIREFOX_PREFS },
      };
    case "webkit":
      return {
        browserName: "MiniBrowser",
        "webkitgtk:browserOptions": { binary: browser, args: ["--automation"] },
      };
  }
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

/** One browser session of one engine, and its driver process. */
export class Browser {
  private constructor(
    readonly engine: Engine,
    private readonly base: string,
    private readonly driver: ChildProcess,
    private readonly scratch: string,
    /** What the driver says it started: browser name and version. */
    readonly version: string,
  ) {}

  /** Starts the engine's driver on a free loopback port and opens a session. */
  static async start(engine: Engine): Promise<Browser> {
    const port = await freePort();
    const { driver } = ENGINES[engine];
    const scratch = mkdtempSync(path.join(tmpdir(), `ringside-${engine}-`));
    const args: Record<Engine, [string, string[]]> = {
      chromium: [driver, [`--port=${port}`, "--allowed-ips=127.0.0.1"]],
      firefox: [driver, ["--port", String(port), "--host", "127.0.0.1", "--profile-root", scratch]],
      // MiniBrowser needs a display: a private Xvfb, found by xvfb-run.
      webkit: ["xvfb-run", ["-a", "-s", "-screen 0 1280x800x24", driver, `--port=${port}`]],
    };
    const [program, argv] = args[engine];
    const child = spawn(program, argv, {
      detached: true, // its own process group, so the browser goes with it
      stdio: ["ignore", "ignore", process.env.WEBDRIVER_LOG ? "inherit" : "ignore"],
      env: { ...process.env, TMPDIR: scratch, MOZ_CRASHREPORTER_DISABLE: "1" },
    });
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${program} exited with ${child.exitCode}`);
      try {
        const status = await (await fetch(`${base}/status`)).json();
        if (status.value?.ready !== false) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`${program} did not answer in 30 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const answer = await call(base, "POST", "/session", { capabilities: { alwaysMatch: capabilities(engine) } });
    const caps = answer.capabilities ?? {};
    const browser = new Browser(engine, `${base}/session/${answer.sessionId}`, child, scratch, `${caps.browserName} ${caps.browserVersion}`);
    await browser.command("POST", "/timeouts", { script: 30_000, pageLoad: 30_000, implicit: 0 });
    return browser;
  }

  /** Ends the session, the driver and its browser. */
  async quit(): Promise<void> {
    try {
      await call(this.base, "DELETE", "");
    } catch {
      // the browser may already be gone
    }
    try {
      process.kill(-this.driver.pid!, "SIGTERM");
    } catch {
      // already gone
    }
    rmSync(this.scratch, { recursive: true, force: true });
  }

  command(method: string, pathname: string, body?: unknown): Promise<any> {
    return call(this.base, method, pathname, body);
  }

  async goto(url: string): Promise<void> {
    await this.command("POST", "/url", { url });
  }

  /** Runs `script` (a function body; `arguments` holds `args`) in the page. */
  execute<T = any>(script: string, ...args: unknown[]): Promise<T> {
    return this.command("POST", "/execute/sync", { script, args });
  }

  /** Runs an async function body in the page; it ends by calling `arguments[arguments.length - 1](value)`. */
  executeAsync<T = any>(script: string, ...args: unknown[]): Promise<T> {
    return this.command("POST", "/execute/async", { script, args });
  }

  async click(element: ElementRef): Promise<void> {
    await this.command("POST", `/element/${element[ELEMENT]}/click`, {});
  }

  async type(element: ElementRef, text: string): Promise<void> {
    await this.command("POST", `/element/${element[ELEMENT]}/value`, { text });
  }

  /** A PNG of the top document's viewport. */
  async screenshot(): Promise<Buffer> {
    return Buffer.from(await this.command("GET", "/screenshot"), "base64");
  }

  async switchToFrame(frame: ElementRef | null): Promise<void> {
    await this.command("POST", "/frame", { id: frame });
  }

  /** Polls `check` (a function body returning a value) until it is truthy; returns it. */
  async waitFor<T>(what: string, script: string, timeoutMs = 20_000, ...args: unknown[]): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      last = await this.execute(script, ...args);
      if (last) return last as T;
      if (Date.now() > deadline) throw new Error(`${this.engine}: timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function call(base: string, method: string, pathname: string, body?: unknown): Promise<any> {
  const response = await fetch(base + pathname, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = json.value ?? {};
    throw new Error(`WebDriver ${method} ${pathname}: ${response.status} ${error.error}: ${error.message}`);
  }
  return json.value;
}
