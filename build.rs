//! Minifies the widget's stylesheet, which is compiled into the wasm: every
//! byte of it is a byte every visitor downloads.

use std::{env, fs, path::Path};

fn main() {
    let source = "style/widget.css";
    println!("cargo::rerun-if-changed={source}");
    let css = fs::read_to_string(source).expect("style/widget.css is readable");
    let out = Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("widget.min.css");
    fs::write(out, minify(&css)).expect("OUT_DIR is writable");
}

/// Drops comments and the whitespace CSS does not need. Our own stylesheet
/// has no strings or `url()`s with significant spaces, which keeps this safe.
fn minify(css: &str) -> String {
    let mut without_comments = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        without_comments.push_str(&rest[..start]);
        rest = rest[start + 2..]
            .split_once("*/")
            .map_or("", |(_, after)| after);
    }
    without_comments.push_str(rest);

    let mut out = String::with_capacity(without_comments.len());
    let mut pending_space = false;
    for c in without_comments.chars() {
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if pending_space {
            let last = out.chars().next_back();
            let joins = |x: char| matches!(x, '{' | '}' | ';' | ':' | ',' | '>' | '(');
            if last.is_some_and(|l| !joins(l)) && !matches!(c, '{' | '}' | ';' | ',' | '>' | ')') {
                out.push(' ');
            }
            pending_space = false;
        }
        if c == '}' && out.ends_with(';') {
            out.pop();
        }
        out.push(c);
    }
    out
}
