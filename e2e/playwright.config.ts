// Browser tests: Debian's Chromium (never a downloaded browser), headless,
// against the real mock and mint binaries that each test starts on loopback.
import { defineConfig } from "@playwright/test";

import { chromiumFlags } from "./chromium.mjs";

export default defineConfig({
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
});
