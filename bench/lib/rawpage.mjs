// Pages driven over the DevTools protocol with the few domains a streaming
// run needs (Page, Performance, Input, Runtime's evaluate), and never the
// Network domain.
//
// Why not Playwright for these runs: it enables the Network domain in every
// page and worker it drives, and while that domain is on, the network
// service reports each read of a response to the renderer (one IPC, "transfer
// size updated", per read; without DevTools only ad requests get them). For a
// stream of one token per read that is a task per token on the page's main
// thread: about 30 ms per 1k tokens for a page that reads in a worker (ours:
// the worker's loader forwards each to the page), 40 to 60 for one that reads
// on the main thread (the floor). A visitor's browser does none of it.
//
// The page object here has the small part of Playwright's `Page` the
// streaming runs use (`goto`, `evaluate`, `waitForFunction`, `locator(…)`
// `.click/.fill/.waitFor`, `keyboard.press("Enter")`, `mouse.move`,
// `waitForTimeout`, `waitForLoadState`), with Playwright's meaning, so the
// widgets' `prepare`/`type`/`send` work on either.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/**
 * Playwright 1.65's own switches for a headless Chromium (read from the
 * command line of the browser it launches), so both browsers run alike.
 */
const PLAYWRIGHT_SWITCHES = [
  "--disable-field-trial-config",
  "--disable-background-networking",
  "--disable-background-timer-throttling",
  "--disable-backgrounding-occluded-windows",
  "--disable-back-forward-cache",
  "--disable-breakpad",
  "--disable-component-extensions-with-background-pages",
  "--disable-component-update",
  "--no-default-browser-check",
  "--disable-default-apps",
  "--disable-dev-shm-usage",
  "--disable-extensions",
  "--disable-features=AvoidUnnecessaryBeforeUnloadCheckSync,DestroyProfileOnBrowserClose,HttpsUpgrades,HttpsFirstBalancedModeAutoEnable,LensOverlay,MediaRouter,PaintHolding,ThirdPartyStoragePartitioning,AvoidCorsURLLoaderRestartOnRedirect,OptimizationHints,NetworkTimeServiceQuerying,PreconnectToSearch",
  "--allow-pre-commit-input",
  "--disable-hang-monitor",
  "--disable-ipc-flooding-protection",
  "--disable-popup-blocking",
  "--disable-prompt-on-repost",
  "--disable-renderer-backgrounding",
  "--force-color-profile=srgb",
  "--metrics-recording-only",
  "--no-first-run",
  "--password-store=basic",
  "--use-mock-keychain",
  "--no-service-autorun",
  "--disable-search-engine-choice-screen",
  "--headless",
  "--hide-scrollbars",
  "--mute-audio",
  "--blink-settings=primaryHoverType=2,availableHoverTypes=2,primaryPointerType=4,availablePointerTypes=4",
  "--no-sandbox",
  "--no-startup-window",
];

/** Launches `executable` with `flags`, driven over a pipe (`--remote-debugging-pipe`). */
export async function launchRaw(executable, flags) {
  const profile = mkdtempSync(path.join(tmpdir(), "ringside-bench-chromium-"));
  const child = spawn(executable, [...PLAYWRIGHT_SWITCHES, ...flags, `--user-data-dir=${profile}`, "--remote-debugging-pipe"], {
    stdio: ["ignore", "ignore", "ignore", "pipe", "pipe"],
  });
  const toBrowser = child.stdio[3];
  const fromBrowser = child.stdio[4];
  let nextId = 0;
  const pending = new Map();
  const listeners = new Set();
  let buffered = Buffer.alloc(0);
  fromBrowser.on("data", (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    let end;
    while ((end = buffered.indexOf(0)) >= 0) {
      const message = JSON.parse(buffered.subarray(0, end).toString("utf8"));
      buffered = buffered.subarray(end + 1);
      const waiter = message.id !== undefined && pending.get(message.id);
      if (waiter) {
        pending.delete(message.id);
        if (message.error) waiter.reject(new Error(`${waiter.method}: ${message.error.message}`));
        else waiter.resolve(message.result);
      } else {
        for (const listener of listeners) listener(message);
      }
    }
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  exited.then(() => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${waiter.method}: the browser exited`));
  });
  const send = (method, params = {}, sessionId) =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, { resolve, reject, method });
      toBrowser.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + "\0");
    });

  /** A fresh context (no cache, no cookies, no storage) with one page, `initScript` run in it before its own. */
  async function newPage({ initScript, viewport }) {
    const { browserContextId } = await send("Target.createBrowserContext");
    const { targetId } = await send("Target.createTarget", { url: "about:blank", browserContextId });
    const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true });
    const cdp = { send: (method, params) => send(method, params, sessionId) };
    /** The page's next event `name`. */
    const nextEvent = (name) =>
      new Promise((resolve) => {
        const listener = (message) => {
          if (message.sessionId !== sessionId || message.method !== name) return;
          listeners.delete(listener);
          resolve(message.params);
        };
        listeners.add(listener);
      });
    await cdp.send("Page.enable");
    await cdp.send("Performance.enable");
    await cdp.send("Emulation.setDeviceMetricsOverride", { ...viewport, deviceScaleFactor: 1, mobile: false });
    if (initScript) await cdp.send("Page.addScriptToEvaluateOnNewDocument", { source: initScript });
    const page = rawPage(cdp, nextEvent);
    const context = { close: () => send("Target.disposeBrowserContext", { browserContextId }).catch(() => {}) };
    return { context, page, cdp };
  }

  /** Starts a trace of the whole browser with `categories`. */
  async function startTracing(categories) {
    await send("Tracing.start", { traceConfig: { includedCategories: categories }, transferMode: "ReportEvents" });
  }

  /** Ends the trace; its events, as Chrome's JSON trace format. */
  async function stopTracing() {
    const events = [];
    let complete;
    const done = new Promise((resolve) => (complete = resolve));
    const listener = (message) => {
      if (message.method === "Tracing.dataCollected") events.push(...message.params.value);
      else if (message.method === "Tracing.tracingComplete") complete();
    };
    listeners.add(listener);
    try {
      await send("Tracing.end");
      await done;
    } finally {
      listeners.delete(listener);
    }
    return JSON.stringify({ traceEvents: events });
  }

  return {
    newPage,
    startTracing,
    stopTracing,
    async close() {
      child.kill();
      await exited;
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The first element matching `selector`, whose descendant combinators (a
 * space) go into open shadow roots, as Playwright's CSS selectors do.
 */
const DEEP_QUERY = `(selector) => {
  const within = (root) => {
    const found = [];
    const walk = (node) => {
      if (node.shadowRoot) walk(node.shadowRoot);
      for (const element of node.querySelectorAll("*")) {
        found.push(element);
        if (element.shadowRoot) walk(element.shadowRoot);
      }
    };
    walk(root);
    return found;
  };
  let matches = [document];
  for (const part of selector.trim().split(/\\s+/)) {
    matches = matches.flatMap((root) => within(root).filter((element) => element.matches(part)));
  }
  return matches[0] ?? null;
}`;

function rawPage(cdp, nextEvent) {
  async function evaluate(fn, arg) {
    const call = `(${fn})(${arg === undefined ? "" : JSON.stringify(arg)})`;
    const { result, exceptionDetails } = await cdp.send("Runtime.evaluate", { expression: call, awaitPromise: true, returnByValue: true });
    if (exceptionDetails) throw new Error(exceptionDetails.exception?.description ?? exceptionDetails.text);
    return result.value;
  }
  async function waitForFunction(fn, arg, { polling = 100, timeout = 30_000 } = {}) {
    const start = Date.now();
    for (;;) {
      const value = await evaluate(fn, arg);
      if (value) return value;
      if (timeout && Date.now() - start > timeout) throw new Error(`waitForFunction: timed out after ${timeout} ms: ${fn}`);
      await sleep(polling);
    }
  }
  const mouse = {
    async move(x, y) {
      await cdp.send("Input.dispatchMouseEvent", { type: "mouseMoved", x, y });
    },
  };
  function locator(selector) {
    const find = (body) => `(() => { const element = (${DEEP_QUERY})(${JSON.stringify(selector)}); ${body} })()`;
    const waitFor = ({ timeout = 30_000 } = {}) =>
      waitForFunction(`() => ${find("return !!element;")}`, undefined, { polling: 50, timeout });
    return {
      waitFor,
      async click() {
        await waitFor();
        const { x, y } = await evaluate(`() => ${find("const r = element.getBoundingClientRect(); return { x: r.x + r.width / 2, y: r.y + r.height / 2 };")}`);
        await mouse.move(x, y);
        for (const type of ["mousePressed", "mouseReleased"]) {
          await cdp.send("Input.dispatchMouseEvent", { type, x, y, button: "left", buttons: type === "mousePressed" ? 1 : 0, clickCount: 1 });
        }
      },
      /** Focuses the field, selects what it holds, and types `text` over it (one input event). */
      async fill(text) {
        await waitFor();
        await evaluate(`() => ${find(`element.focus();
          if ("select" in element) element.select();
          else getSelection().selectAllChildren(element);`)}`);
        await cdp.send("Input.insertText", { text });
      },
    };
  }
  return {
    async goto(url) {
      const loaded = nextEvent("Page.loadEventFired");
      const { errorText } = await cdp.send("Page.navigate", { url });
      if (errorText) throw new Error(`goto ${url}: ${errorText}`);
      await loaded;
    },
    evaluate,
    waitForFunction,
    locator,
    mouse,
    keyboard: {
      async press(key) {
        if (key !== "Enter") throw new Error(`keyboard.press: only Enter is known here, not ${key}`);
        const enter = { key: "Enter", code: "Enter", windowsVirtualKeyCode: 13, nativeVirtualKeyCode: 13 };
        await cdp.send("Input.dispatchKeyEvent", { type: "keyDown", text: "\r", unmodifiedText: "\r", ...enter });
        await cdp.send("Input.dispatchKeyEvent", { type: "keyUp", ...enter });
      },
    },
    waitForTimeout: sleep,
    /** Playwright's "networkidle" (no request for 500 ms), without the Network domain: a second of quiet. */
    async waitForLoadState() {
      await sleep(1000);
    },
  };
}
