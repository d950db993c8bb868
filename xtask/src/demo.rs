//! `cargo xtask demo` and `cargo xtask screenshots`: the demo site (the built
//! widget, `index.html`, and the pages in `demo/`) served by the mint server,
//! with the mock gateway answering in its demo mode (paced like a model, its
//! test controls on for the states page), and the widget's files served
//! again from a second origin, as a CDN would.

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::Result;
use crate::process::{Server, run};
use crate::setup::{self, CHROMIUM, root, target_dir};
use crate::tasks::{self, Built};

/// The API key the demo's mock and mint share. It is a test key of the mock:
/// the demo needs no Ringside key at all.
const DEMO_KEY: &str = "sk_test_ringside_demo";
/// Where the demo is served.
const DEMO_ADDR: &str = "127.0.0.1:8080";
/// Where the demo's mock gateway listens.
const MOCK_ADDR: &str = "127.0.0.1:8787";
/// Where the widget's files are served again, as from a CDN.
const CDN_ADDR: &str = "127.0.0.1:8090";

/// The mock's flags for the demo: answers about the demo's company, paced
/// like a model (a first token after 350 ms, then 23 ± 10 ms a token: 30 to
/// 77 tokens a second), and the controls the states page uses.
const MOCK_DEMO_FLAGS: &[&str] = &[
    "--controls",
    "--answer-mode",
    "demo",
    "--first-token-delay-ms",
    "350",
    "--token-delay-ms",
    "23",
    "--token-jitter-ms",
    "10",
];

/// The widget's files a page may load from the CDN origin, besides the
/// answers chunk (its name carries its hash) and the language files.
const CDN_FILES: &[(&str, &str)] = &[
    ("ringside-chat.js", "text/javascript"),
    ("ringside-chat-threads.js", "text/javascript"),
    ("ringside-chat-widget.js", "text/javascript"),
    ("ringside-chat-widget_bg.wasm", "application/wasm"),
];

/// The demo's servers, stopped when dropped.
struct Demo {
    /// The site's address, `http://127.0.0.1:8080`.
    url: String,
    mock: Server,
    mint: Server,
}

impl Demo {
    /// Assembles the site in `target/demo-site` and starts the servers: the
    /// mint on `site_addr`, the mock on `mock_addr`, the CDN on `cdn_addr`
    /// (port 0: any free one).
    fn start(built: &Built, site_addr: &str, mock_addr: &str, cdn_addr: &str) -> Result<Demo> {
        let cdn = serve_cdn(cdn_addr, built.dist.clone())?;
        let mock = Server::start(
            "ringside-mock",
            &built.bin_dir.join("ringside-mock"),
            &[&["--listen", mock_addr], MOCK_DEMO_FLAGS].concat(),
            &[("RINGSIDE_MOCK_API_KEY", DEMO_KEY)],
        )?;
        let site = target_dir().join("demo-site");
        assemble_site(&built.dist, &root().join("demo"), &site, &cdn, &mock.url)?;
        let url = format!("http://{site_addr}");
        let localhost = url.replace("127.0.0.1", "localhost");
        let mint = Server::start(
            "ringside-mint",
            &built.bin_dir.join("ringside-mint"),
            &[
                "--listen",
                site_addr,
                "--ringside-url",
                &mock.url,
                "--allowed-origin",
                &url,
                "--allowed-origin",
                &localhost,
                "--static-dir",
                &site.to_string_lossy(),
            ],
            &[
                ("FC_API_KEY", DEMO_KEY),
                (
                    "RINGSIDE_MINT_COOKIE_SECRET",
                    "demo-only-cookie-secret-not-for-production",
                ),
            ],
        )?;
        Ok(Demo { url, mock, mint })
    }
}

/// `cargo xtask demo`: builds, serves the demo until Ctrl-C.
pub(crate) fn demo() -> Result {
    let started = Instant::now();
    let built = tasks::build()?;
    let mut demo = Demo::start(&built, DEMO_ADDR, MOCK_ADDR, CDN_ADDR)?;
    println!(
        "\n  Ringside Chat demo: {}/   (ready {:.0} s after the command started)\n  \
         the mock gateway:   {} (demo answers, test controls on)\n  \
         the CDN origin:     http://{CDN_ADDR}\n  \
         Ctrl-C stops everything.\n",
        demo.url,
        started.elapsed().as_secs_f64(),
        demo.mock.url
    );
    loop {
        #[allow(
            clippy::disallowed_methods,
            reason = "xtask has no async runtime: waiting here blocks nothing"
        )]
        std::thread::sleep(Duration::from_millis(300));
        for server in [&mut demo.mock, &mut demo.mint] {
            if !server.is_running() {
                return Err(format!("{} stopped; stopping the demo", server.name()));
            }
        }
    }
}

/// `cargo xtask screenshots`: the README's pictures of the widget, taken by
/// headless Chromium (Debian's, driven by the e2e Playwright install) from a
/// demo on free ports, written to `docs/`.
pub(crate) fn screenshots() -> Result {
    let built = tasks::build_with(setup::setup(true)?)?;
    let site = free_addr()?;
    let mock = free_addr()?;
    let demo = Demo::start(&built, &site, &mock, "127.0.0.1:0")?;
    let out = root().join("docs");
    fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    run(built
        .tools
        .command("node")
        .current_dir(root().join("e2e"))
        .arg("screenshots.mjs")
        .arg(&demo.url)
        .arg(&out)
        .env("CHROMIUM", CHROMIUM))?;
    eprintln!("wrote the screenshots to {}", out.display());
    Ok(())
}

/// A loopback address with a port free right now.
fn free_addr() -> Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    Ok(addr.to_string())
}

/// The demo site in `site`: the widget's build (`dist`), and the pages of
/// `pages` with `{{CDN}}` and `{{MOCK}}` filled in.
fn assemble_site(dist: &Path, pages: &Path, site: &Path, cdn: &str, mock: &str) -> Result {
    let _ = fs::remove_dir_all(site);
    fs::create_dir_all(site).map_err(|e| format!("cannot create {}: {e}", site.display()))?;
    for (dir, fill) in [(dist, false), (pages, true)] {
        let entries =
            fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        for entry in entries {
            let from = entry.map_err(|e| e.to_string())?.path();
            if !from.is_file() {
                continue;
            }
            let to = site.join(from.file_name().unwrap_or_default());
            let result = if fill && from.extension().is_some_and(|e| e == "html") {
                fs::read_to_string(&from).and_then(|page| {
                    fs::write(&to, page.replace("{{CDN}}", cdn).replace("{{MOCK}}", mock))
                })
            } else {
                fs::copy(&from, &to).map(drop)
            };
            result.map_err(|e| format!("cannot copy {} to the site: {e}", from.display()))?;
        }
    }
    Ok(())
}

/// Serves the widget's files from `dist` on `addr`, with CORS for any
/// origin, as a CDN does: a page on the demo's origin loads the widget from
/// here. Returns its URL. A few lines of std rather than a web server crate,
/// so that `cargo xtask` keeps building in seconds on a fresh clone; it
/// answers only `GET` of [`CDN_FILES`], on loopback, for the demo's lifetime.
fn serve_cdn(addr: &str, dist: PathBuf) -> Result<String> {
    let listener =
        TcpListener::bind(addr).map_err(|e| format!("cannot listen on {addr} for the CDN: {e}"))?;
    let url = format!(
        "http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let dist = dist.clone();
            std::thread::spawn(move || {
                if let Err(error) = answer_cdn(stream, &dist) {
                    eprintln!("the demo's CDN: {error}");
                }
            });
        }
    });
    Ok(url)
}

/// Answers one request on `stream` (one per connection).
fn answer_cdn(mut stream: TcpStream, dist: &Path) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut head = Vec::new();
    let mut buffer = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let read = stream.read(&mut buffer)?;
        if read == 0 || head.len() > 16 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&buffer[..read]);
    }
    let head = String::from_utf8_lossy(&head);
    let mut request_line = head.lines().next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default();
    let path = request_line.next().unwrap_or_default();
    let name = path
        .split('?')
        .next()
        .unwrap_or_default()
        .trim_start_matches('/');
    // The loader's files, and the translations it fetches for a page in another language.
    let locale = name
        .strip_prefix("ringside-chat.")
        .and_then(|n| n.strip_suffix(".json"));
    let locale = locale
        .filter(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .map(|_| (name, "application/json"));
    let chunk = crate::slim::is_chunk(name).then_some((name, "application/wasm"));
    let file = CDN_FILES
        .iter()
        .copied()
        .find(|(file, _)| *file == name)
        .or(locale)
        .or(chunk);
    let (status, mime, body) = match (method, file) {
        ("GET" | "HEAD", Some((file, mime))) => match fs::read(dist.join(file)) {
            Ok(body) => ("200 OK", mime, body),
            Err(_) => ("404 Not Found", "text/plain", b"not built\n".to_vec()),
        },
        ("GET" | "HEAD", None) => ("404 Not Found", "text/plain", b"not found\n".to_vec()),
        _ => (
            "405 Method Not Allowed",
            "text/plain",
            b"GET only\n".to_vec(),
        ),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: {mime}\r\ncontent-length: {}\r\n\
         access-control-allow-origin: *\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n",
        body.len()
    )?;
    if method != "HEAD" {
        stream.write_all(&body)?;
    }
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(url: &str, path: &str, origin_header: bool) -> String {
        let addr = url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(addr).unwrap();
        let origin = if origin_header {
            "Origin: http://127.0.0.1:8080\r\n"
        } else {
            ""
        };
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{origin}\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    }

    #[test]
    fn the_cdn_serves_the_widgets_files_and_its_answers_chunk_with_cors_and_nothing_else() {
        let dist = std::env::temp_dir().join(format!("ringside-cdn-test-{}", std::process::id()));
        fs::create_dir_all(&dist).unwrap();
        fs::write(dist.join("ringside-chat.js"), "loader();").unwrap();
        fs::write(dist.join("ringside-chat-answers-00ff.wasm"), "\0asm").unwrap();
        fs::write(dist.join("ringside-chat-answers.txt"), "no").unwrap();
        fs::write(dist.join("secret.txt"), "no").unwrap();
        let url = serve_cdn("127.0.0.1:0", dist.clone()).unwrap();

        let loader = get(&url, "/ringside-chat.js?v=1", true);
        assert!(loader.starts_with("HTTP/1.1 200 OK\r\n"), "{loader}");
        assert!(loader.contains("access-control-allow-origin: *\r\n"));
        assert!(loader.contains("content-type: text/javascript\r\n"));
        assert!(loader.ends_with("\r\n\r\nloader();"));
        let chunk = get(&url, "/ringside-chat-answers-00ff.wasm", false);
        assert!(chunk.starts_with("HTTP/1.1 200 OK\r\n"), "{chunk}");
        assert!(chunk.contains("content-type: application/wasm\r\n"));
        for path in [
            "/secret.txt",
            "/ringside-chat-answers.txt",
            "/ringside-chat-answers-../secret.txt",
            "/../Cargo.toml",
            "/%2e%2e/secret.txt",
            "/",
        ] {
            assert!(get(&url, path, false).starts_with("HTTP/1.1 404"), "{path}");
        }
        assert!(
            get(&url, "/ringside-chat-widget.js", false).starts_with("HTTP/1.1 404"),
            "a file not built yet"
        );
        let _ = fs::remove_dir_all(dist);
    }

    #[test]
    fn the_site_is_the_build_plus_the_pages_with_their_origins_filled_in() {
        let base = std::env::temp_dir().join(format!("ringside-site-test-{}", std::process::id()));
        let (dist, pages, site) = (base.join("dist"), base.join("pages"), base.join("site"));
        fs::create_dir_all(&dist).unwrap();
        fs::create_dir_all(&pages).unwrap();
        fs::write(dist.join("index.html"), "{{CDN}} stays in the build").unwrap();
        fs::write(
            pages.join("a.html"),
            "<script src=\"{{CDN}}/x.js\" data-m=\"{{MOCK}}\">",
        )
        .unwrap();
        fs::write(pages.join("a.js"), "const cdn = '{{CDN}}';").unwrap();
        assemble_site(&dist, &pages, &site, "http://cdn", "http://mock").unwrap();
        let read = |name: &str| fs::read_to_string(site.join(name)).unwrap();
        assert_eq!(
            read("a.html"),
            "<script src=\"http://cdn/x.js\" data-m=\"http://mock\">"
        );
        assert_eq!(
            read("a.js"),
            "const cdn = '{{CDN}}';",
            "only pages are filled in"
        );
        assert_eq!(read("index.html"), "{{CDN}} stays in the build");
        let _ = fs::remove_dir_all(base);
    }

    #[test]
    fn every_demo_page_the_index_links_is_in_demo() {
        let index = fs::read_to_string(root().join("index.html")).unwrap();
        let mut linked = 0;
        for (at, _) in index.match_indices("href=\"/") {
            let page: String = index[at + 7..].chars().take_while(|c| *c != '"').collect();
            if page.ends_with(".html") {
                linked += 1;
                assert!(
                    root().join("demo").join(&page).is_file(),
                    "index.html links /{page}"
                );
            }
        }
        assert!(linked >= 6, "the index links every demo page: {linked}");
    }
}
