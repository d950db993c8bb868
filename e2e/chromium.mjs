// The flags every headless Chromium of the project starts with, read from
// `chromium.flags` (one place for the browser tests, the benchmarks and the
// wasm unit tests).
import { readFileSync } from "node:fs";

export function chromiumFlags() {
  return readFileSync(new URL("./chromium.flags", import.meta.url), "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"));
}
