// The servers a benchmark talks to, as e2e/tests/stack.ts starts them for a
// test: a mock Ringside and a mint server on loopback ports the OS picks (the
// mint also serves the host pages), plus a "CDN": a static server on another
// origin that serves the widget's files (and the peer's) compressed, with
// CORS, the way a real embed loads them.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { createServer as createHttpServer } from "node:http";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import zlib from "node:zlib";

export const API_KEY = "sk_test_bench";
export const MODEL = "fc:openai/gpt-4o-mini";

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts a binary and resolves with the URL of its `listening on` line. */
function start(binary, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, {
      env: { ...process.env, RUST_LOG: "warn", ...env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let buffered = "";
    const timer = setTimeout(() => reject(new Error(`${binary} did not start in 15 s`)), 15_000);
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`${binary} exited with ${code} before listening`)));
    child.stdout.on("data", (data) => {
      buffered += data.toString();
      const match = buffered.match(/listening on (\S+)/);
      if (match) {
        clearTimeout(timer);
        child.removeAllListeners("exit");
        resolve({ child, url: match[1] });
      }
    });
  });
}

const MIME = {
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".wasm": "application/wasm",
  ".html": "text/html",
  ".css": "text/css",
};

/**
 * A static server for `files` (URL name → path) on a free loopback port:
 * CORS for any origin, no caching, and each file compressed once, ahead of
 * time, as a CDN keeps it: brotli (quality 11) when the browser accepts it,
 * else gzip (level 9). Chromium offers brotli only over HTTPS, so on this
 * loopback http:// origin it gets gzip.
 */
function cdn(files) {
  const bodies = new Map();
  for (const [name, file] of Object.entries(files)) {
    const raw = readFileSync(file);
    bodies.set(name, {
      raw,
      br: zlib.brotliCompressSync(raw, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }),
      gzip: zlib.gzipSync(raw, { level: 9 }),
      type: MIME[path.extname(name)] ?? "application/octet-stream",
    });
  }
  return new Promise((resolve) => {
    const server = createHttpServer((req, res) => {
      const name = new URL(req.url ?? "/", "http://x").pathname.slice(1);
      const body = bodies.get(name);
      if (!body) {
        res.writeHead(404, { "access-control-allow-origin": "*" }).end();
        return;
      }
      const accepts = String(req.headers["accept-encoding"] ?? "");
      const encoding = /\bbr\b/.test(accepts) ? "br" : /\bgzip\b/.test(accepts) ? "gzip" : null;
      const headers = {
        "content-type": body.type,
        "access-control-allow-origin": "*",
        "cache-control": "no-store",
        vary: "accept-encoding",
      };
      if (encoding) headers["content-encoding"] = encoding;
      res.writeHead(200, headers);
      res.end(encoding ? body[encoding] : body.raw);
    });
    server.listen(0, "127.0.0.1", () => {
      resolve({ url: `http://127.0.0.1:${server.address().port}`, server });
    });
  });
}

/**
 * Starts the mock, the mint (serving a fresh site folder) and the CDN.
 * `binDir` holds `ringside-mock` and `ringside-mint`; `cdnFiles` maps URL
 * names to files.
 */
export async function startStack({ binDir, cdnFiles }) {
  const mock = await start(
    path.join(binDir, "ringside-mock"),
    ["--listen", "127.0.0.1:0", "--controls", "--first-token-delay-ms", "0", "--token-delay-ms", "0"],
    { RINGSIDE_MOCK_API_KEY: API_KEY },
  );
  const port = await freePort();
  const mintUrl = `http://127.0.0.1:${port}`;
  const site = mkdtempSync(path.join(tmpdir(), "ringside-bench-"));
  const mint = await start(
    path.join(binDir, "ringside-mint"),
    [
      "--listen", `127.0.0.1:${port}`,
      "--ringside-url", mock.url,
      "--allowed-origin", mintUrl,
      "--static-dir", site,
      // Every page load is a new visitor from 127.0.0.1, far more often than
      // a real address: the mint's abuse limits would refuse them.
      "--ip-rate-per-minute", "0",
      "--identity-rate-per-minute", "0",
      "--new-visitor-rate-per-minute", "0",
      "--visitor-rate-limit-rpm", "10000",
      "--visitor-budget-usd", "1000",
      // Nor should the global ceilings on new visitors (0: off).
      "--new-visitors-per-hour", "0",
      "--visitor-budget-per-day-usd", "0",
    ],
    { FC_API_KEY: API_KEY, RINGSIDE_MINT_COOKIE_SECRET: "bench-cookie-secret-of-at-least-32-bytes" },
  );
  const assets = await cdn(cdnFiles);
  let pages = 0;
  const mockApi = (pathname, init = {}) =>
    fetch(mock.url + pathname, {
      ...init,
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json", ...(init.headers ?? {}) },
    });
  return {
    mockUrl: mock.url,
    mintUrl,
    cdnUrl: assets.url,
    /** Queues scripted completions (server/mock/CONTROLS.md). */
    async script(...completions) {
      const response = await mockApi("/__mock/script", { method: "POST", body: JSON.stringify({ completions }) });
      if (!response.ok) throw new Error(`the mock refused the script: ${response.status}`);
    },
    /** Writes a page into the host's site; returns its URL. */
    page(html) {
      const name = `page-${++pages}.html`;
      writeFileSync(path.join(site, name), html);
      return `${mintUrl}/${name}`;
    },
    async stop() {
      for (const child of [mint.child, mock.child]) child.kill();
      assets.server.close();
      rmSync(site, { recursive: true, force: true });
    },
  };
}
