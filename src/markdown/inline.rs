//! Inline Markdown: emphasis, strong, code spans, links, autolinks and bare
//! URLs, backslash escapes and line breaks. Anything that does not parse as
//! markup stays text (raw HTML included: it is shown, never interpreted).

use super::tree::safe_href;

/// A piece of inline content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline {
    /// Plain text.
    Text(String),
    /// `*em*` or `_em_`.
    Emphasis(Vec<Inline>),
    /// `**strong**` or `__strong__`.
    Strong(Vec<Inline>),
    /// `` `code` ``.
    Code(String),
    /// A link whose target passed [`safe_href`].
    Link {
        /// The checked target.
        href: String,
        /// The link's text.
        children: Vec<Inline>,
    },
    /// A line break inside a block.
    Break,
}

/// Blocks longer than this are shown as plain text: inline parsing is
/// linear in practice, but a hostile text could make it slower.
pub const MAX_INLINE_PARSE: usize = 32 * 1024;
/// Formatting nested deeper than this is shown as text.
const MAX_DEPTH: usize = 8;

/// Parses the text of a block.
pub fn parse(text: &str) -> Vec<Inline> {
    let mut out = Vec::new();
    if text.len() > MAX_INLINE_PARSE {
        out.push(Inline::Text(text.to_string()));
    } else {
        Parser {
            out: &mut out,
            text: String::new(),
            in_link: false,
        }
        .run(text, 0);
    }
    out
}

struct Parser<'o> {
    out: &'o mut Vec<Inline>,
    text: String,
    in_link: bool,
}

fn run_length(s: &[u8], i: usize) -> usize {
    s[i..].iter().take_while(|&&b| b == s[i]).count()
}

fn is_space(c: Option<char>) -> bool {
    c.is_none_or(char::is_whitespace)
}

/// A letter or digit, for the "inside a word" rules. Any non-ASCII character
/// counts as one: exact Unicode tables would cost the wasm kilobytes, and
/// treating `é_x` as a word is the safe side (no emphasis).
fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || !c.is_ascii()
}

impl Parser<'_> {
    fn flush(&mut self) {
        if !self.text.is_empty() {
            self.out.push(Inline::Text(std::mem::take(&mut self.text)));
        }
    }

    fn push(&mut self, inline: Inline) {
        self.flush();
        self.out.push(inline);
    }

    fn nested(&self, text: &str, depth: usize, in_link: bool) -> Vec<Inline> {
        let mut out = Vec::new();
        Parser {
            out: &mut out,
            text: String::new(),
            in_link,
        }
        .run(text, depth + 1);
        out
    }

    fn run(mut self, s: &str, depth: usize) {
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let consumed = match b[i] {
                b'\\' if b.get(i + 1).is_some_and(u8::is_ascii_punctuation) => {
                    self.text.push(b[i + 1] as char);
                    2
                }
                b'\n' => {
                    // Trailing spaces before a break are not content.
                    self.text.truncate(self.text.trim_end_matches(' ').len());
                    self.push(Inline::Break);
                    1
                }
                b'`' => self.code_span(s, i),
                b'*' | b'_' if depth < MAX_DEPTH => self.emphasis(s, i, depth),
                b'[' if !self.in_link && depth < MAX_DEPTH => self.link(s, i, depth),
                b'<' if !self.in_link => self.autolink(s, i),
                b'h' | b'm' if !self.in_link => self.bare_url(s, i),
                _ => 0,
            };
            if consumed > 0 {
                i += consumed;
                continue;
            }
            // Plain text up to the next byte that may start markup.
            let next = b[i + 1..]
                .iter()
                .position(|c| {
                    matches!(
                        c,
                        b'\\' | b'\n' | b'`' | b'*' | b'_' | b'[' | b'<' | b'h' | b'm'
                    )
                })
                .map_or(b.len(), |p| i + 1 + p);
            self.text.push_str(&s[i..next]);
            i = next;
        }
        self.flush();
    }

    fn code_span(&mut self, s: &str, i: usize) -> usize {
        let b = s.as_bytes();
        let run = run_length(b, i);
        let mut j = i + run;
        while j < b.len() {
            if b[j] == b'`' {
                let close = run_length(b, j);
                if close == run {
                    let mut code = s[i + run..j].replace('\n', " ");
                    if code.len() >= 2
                        && code.starts_with(' ')
                        && code.ends_with(' ')
                        && code.trim() != ""
                    {
                        code = code[1..code.len() - 1].to_string();
                    }
                    self.push(Inline::Code(code));
                    return j + run - i;
                }
                j += close;
            } else {
                j += 1;
            }
        }
        // No closing run: the backticks are text.
        self.text.push_str(&s[i..i + run]);
        run
    }

    fn emphasis(&mut self, s: &str, i: usize, depth: usize) -> usize {
        let b = s.as_bytes();
        let mark = b[i];
        let run = run_length(b, i);
        let before = s[..i].chars().next_back();
        let after = s[i + run..].chars().next();
        // `_` does not open or close inside a word (snake_case_names).
        let intraword = |c: Option<char>| mark == b'_' && c.is_some_and(is_word);
        let can_open = !(is_space(after) || intraword(before));
        if !can_open || run > 3 {
            self.text.push_str(&s[i..i + run]);
            return run;
        }
        // The first run of the same mark, long enough, that can close.
        let mut j = i + run;
        while j < b.len() {
            if b[j] == b'`' {
                j += run_length(b, j);
                continue;
            }
            if b[j] != mark {
                j += 1;
                continue;
            }
            let close = run_length(b, j);
            let before_close = s[..j].chars().next_back();
            let after_close = s[j + close..].chars().next();
            let can_close = !(is_space(before_close) || intraword(after_close));
            if can_close && (close == run || (close >= 3 && run < 3) || (run == 3 && close >= 1)) {
                let used = close.min(run);
                let inner = &s[i + used..j];
                let children = self.nested(inner, depth, self.in_link);
                let inline = match used {
                    1 => Inline::Emphasis(children),
                    2 => Inline::Strong(children),
                    _ => Inline::Strong(vec![Inline::Emphasis(children)]),
                };
                self.push(inline);
                // Leftover marks of the opening run (e.g. `***a*`) stay text.
                if used < run {
                    self.text.push_str(&s[i..i + run - used]);
                }
                return j + used - i;
            }
            j += close;
        }
        self.text.push_str(&s[i..i + run]);
        run
    }

    fn link(&mut self, s: &str, i: usize, depth: usize) -> usize {
        let b = s.as_bytes();
        let mut level = 0;
        let mut j = i;
        let close = loop {
            match b.get(j) {
                None => return 0,
                Some(b'\\') => j += 1,
                Some(b'[') => level += 1,
                Some(b']') => {
                    level -= 1;
                    if level == 0 {
                        break j;
                    }
                }
                _ => {}
            }
            j += 1;
        };
        if b.get(close + 1) != Some(&b'(') {
            return 0;
        }
        let Some(end) = s[close + 2..].find(')').map(|p| close + 2 + p) else {
            return 0;
        };
        let target = s[close + 2..end].split_whitespace().next().unwrap_or("");
        let target = target
            .strip_prefix('<')
            .and_then(|t| t.strip_suffix('>'))
            .unwrap_or(target);
        let children = self.nested(&s[i + 1..close], depth, true);
        match safe_href(target) {
            Some(href) => self.push(Inline::Link { href, children }),
            None => {
                // An unsafe or relative target: keep the words, drop the link.
                self.flush();
                self.out.extend(children);
            }
        }
        end + 1 - i
    }

    fn autolink(&mut self, s: &str, i: usize) -> usize {
        let Some(len) = s[i + 1..].find(['>', ' ', '<', '\n']) else {
            return 0;
        };
        if s.as_bytes()[i + 1 + len] != b'>' {
            return 0;
        }
        let target = &s[i + 1..i + 1 + len];
        match safe_href(target).filter(|_| target.contains(':')) {
            Some(href) => {
                self.push(Inline::Link {
                    href,
                    children: vec![Inline::Text(target.to_string())],
                });
                len + 2
            }
            None => 0,
        }
    }

    fn bare_url(&mut self, s: &str, i: usize) -> usize {
        let rest = &s[i..];
        let is_url = rest.starts_with("https://")
            || rest.starts_with("http://")
            || rest.starts_with("mailto:");
        let at_boundary = !s[..i]
            .chars()
            .next_back()
            .is_some_and(|c| is_word(c) || c == '/');
        if !is_url || !at_boundary {
            return 0;
        }
        let mut end = rest
            .find(|c: char| c.is_whitespace() || c == '<')
            .unwrap_or(rest.len());
        // Trailing punctuation belongs to the sentence, and a `)` closes
        // a parenthesis around the URL unless the URL opened one.
        while let Some(last) = rest[..end].chars().next_back() {
            let unbalanced_paren =
                last == ')' && rest[..end].matches('(').count() < rest[..end].matches(')').count();
            if matches!(
                last,
                '.' | ',' | ':' | ';' | '!' | '?' | '\'' | '"' | '*' | '_'
            ) || unbalanced_paren
            {
                end -= last.len_utf8();
            } else {
                break;
            }
        }
        let target = &rest[..end];
        match safe_href(target) {
            Some(href) if target.len() > "https://".len() => {
                self.push(Inline::Link {
                    href,
                    children: vec![Inline::Text(target.to_string())],
                });
                end
            }
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Inline::*;
    use super::*;
    // The same tests run in headless Chromium: `cargo xtask test` (wasm-bindgen-test).
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn t(s: &str) -> Inline {
        Text(s.into())
    }

    #[test]
    fn plain_text_stays_one_piece() {
        assert_eq!(parse("hello world"), [t("hello world")]);
        assert_eq!(parse("math: 2 * 3 * 4"), [t("math: 2 * 3 * 4")]);
    }

    #[test]
    fn emphasis_strong_and_both() {
        assert_eq!(
            parse("*a* **b** ***c***"),
            [
                Emphasis(vec![t("a")]),
                t(" "),
                Strong(vec![t("b")]),
                t(" "),
                Strong(vec![Emphasis(vec![t("c")])]),
            ]
        );
        assert_eq!(
            parse("*a **b** c*"),
            [Emphasis(vec![t("a "), Strong(vec![t("b")]), t(" c")])]
        );
        assert_eq!(
            parse("_x_ and snake_case_name"),
            [Emphasis(vec![t("x")]), t(" and snake_case_name")]
        );
    }

    #[test]
    fn unclosed_marks_are_text() {
        assert_eq!(parse("**bold without end"), [t("**bold without end")]);
        assert_eq!(parse("* not emphasis *"), [t("* not emphasis *")]);
    }

    #[test]
    fn code_spans_keep_their_text_literally() {
        assert_eq!(
            parse("use `*x*` and `` a`b ``"),
            [
                t("use "),
                Code("*x*".into()),
                t(" and "),
                Code("a`b".into())
            ]
        );
        assert_eq!(parse("`unclosed"), [t("`unclosed")]);
    }

    #[test]
    fn escapes_and_line_breaks() {
        assert_eq!(parse(r"\*not em\* a\b"), [t("*not em* a\\b")]);
        assert_eq!(parse("one  \ntwo"), [t("one"), Break, t("two")]);
    }

    #[test]
    fn links_only_to_safe_schemes() {
        assert_eq!(
            parse("[docs](https://x.io/a?b=1)"),
            [Link {
                href: "https://x.io/a?b=1".into(),
                children: vec![t("docs")]
            }]
        );
        assert_eq!(
            parse("[mail](mailto:a@b.c \"title\")"),
            [Link {
                href: "mailto:a@b.c".into(),
                children: vec![t("mail")]
            }]
        );
        assert_eq!(parse("[x](javascript:alert(1))"), [t("x"), t(")")]);
        assert_eq!(parse("[x](/relative)"), [t("x")]);
        assert_eq!(
            parse("[**b**](https://a.b)"),
            [Link {
                href: "https://a.b".into(),
                children: vec![Strong(vec![t("b")])]
            }]
        );
    }

    #[test]
    fn autolinks_and_bare_urls() {
        assert_eq!(
            parse("<https://a.b/c>"),
            [Link {
                href: "https://a.b/c".into(),
                children: vec![t("https://a.b/c")]
            }]
        );
        assert_eq!(
            parse("see https://a.b/c."),
            [
                t("see "),
                Link {
                    href: "https://a.b/c".into(),
                    children: vec![t("https://a.b/c")]
                },
                t(".")
            ]
        );
        assert_eq!(
            parse("(https://a.b/c)"),
            [
                t("("),
                Link {
                    href: "https://a.b/c".into(),
                    children: vec![t("https://a.b/c")]
                },
                t(")")
            ]
        );
        assert_eq!(parse("<javascript:alert(1)>"), [t("<javascript:alert(1)>")]);
        assert_eq!(parse("xhttps://a.b"), [t("xhttps://a.b")]);
    }

    #[test]
    fn raw_html_is_text() {
        assert_eq!(
            parse("<script>alert(1)</script>"),
            [t("<script>alert(1)</script>")]
        );
        assert_eq!(
            parse("<img src=x onerror=alert(1)>"),
            [t("<img src=x onerror=alert(1)>")]
        );
    }

    #[test]
    fn pathological_nesting_is_bounded() {
        let deep = "*a ".repeat(5000);
        let parsed = parse(&deep);
        assert!(!parsed.is_empty());
        let long = "x".repeat(MAX_INLINE_PARSE + 1);
        assert_eq!(parse(&long), [t(&long)]);
    }
}
