// Browser tests: Debian's Chromium (never a downloaded browser), headless,
// against the real mock and mint binaries that each test starts on loopback;
// the cross-browser subset also in Debian's Firefox ESR and WebKitGTK.
import { defineConfig } from "@playwright/test";

import { chromiumFlags } from "./chromium.mjs";
import type { Engine } from "./tests/webdriver";

export default defineConfig<{}, { engine: Engine }>({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: process.env.CI ? 2 : undefined,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"]],
  outputDir: "test-results",
  use: {
    headless: true,
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: chromiumFlags(),
    },
  },
  // Every spec runs in Chromium; the cross-browser subset (engines.spec.ts,
  // driven through WebDriver) also runs in Firefox ESR and WebKit.
  projects: [
    { name: "chromium", use: { engine: "chromium" } },
    { name: "firefox", testMatch: /engines\.spec\.ts$/, use: { engine: "firefox" } },
    { name: "webkit", testMatch: /engines\.spec\.ts$/, use: { engine: "webkit" } },
  ],
});
