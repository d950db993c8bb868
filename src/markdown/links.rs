//! The parts of links: destinations, titles and labels (shared by inline
//! links and link reference definitions), escapes and entities in them, and
//! autolinks, both `<…>` and GitHub's bare `www.`, `https://` and e-mail
//! addresses. Whether a destination may become a link is decided later, by
//! [`super::tree::safe_href`].

use super::Target;
use super::entities;

/// A link reference definition: `[label]: destination "title"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefDef {
    /// The normalized label.
    pub label: String,
    /// Where it points.
    pub target: Target,
}

/// Paren nesting deeper than this ends a destination: it keeps a hostile
/// text from costing quadratic time.
const MAX_PARENS: usize = 32;

/// ASCII punctuation, which a backslash escapes.
pub fn is_ascii_punct(b: u8) -> bool {
    b.is_ascii_punctuation()
}

/// Resolves backslash escapes and entity references.
pub fn unescape(s: &str) -> String {
    if !s.contains(['\\', '&']) {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut from = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if b.get(i + 1).copied().is_some_and(is_ascii_punct) => {
                out.push_str(&s[from..i]);
                from = i + 1;
                i += 2;
            }
            b'&' => {
                if let Some((used, text)) = entities::decode(&s[i..]) {
                    out.push_str(&s[from..i]);
                    out.push_str(&text);
                    i += used;
                    from = i;
                } else {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    out.push_str(&s[from..]);
    out
}

/// Skips spaces and tabs, and at most one line ending among them.
pub fn skip_space(s: &str, mut i: usize) -> usize {
    let b = s.as_bytes();
    let mut newline = false;
    while let Some(&c) = b.get(i) {
        match c {
            b' ' | b'\t' => {}
            b'\n' if !newline => newline = true,
            _ => break,
        }
        i += 1;
    }
    i
}

/// A link label at `i` (which is `[`): the index after its `]`. At most 999
/// characters, no unescaped brackets, and not only whitespace.
pub fn label_end(s: &str, i: usize) -> Option<usize> {
    let b = s.as_bytes();
    let mut j = i + 1;
    while j < b.len() && j - i <= 1000 {
        match b[j] {
            b'\\' if b.get(j + 1).copied().is_some_and(is_ascii_punct) => j += 2,
            b'[' => return None,
            b']' => {
                let inner = &s[i + 1..j];
                return (!inner.trim_matches([' ', '\t', '\n']).is_empty()).then_some(j + 1);
            }
            _ => j += 1,
        }
    }
    None
}

/// The form of a label that matching uses: case-folded, with whitespace
/// runs made one space.
pub fn normalize_label(label: &str) -> String {
    let mut out = String::with_capacity(label.len());
    for word in label.split([' ', '\t', '\n']).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        for c in word.chars() {
            match c {
                'ß' | 'ẞ' => out.push_str("ss"),
                c => out.push(fold(c)),
            }
        }
    }
    out
}

/// Case folding for the alphabets labels are written in: ASCII, Latin-1,
/// Latin Extended-A, Greek and Cyrillic. `char::to_lowercase` covers all of
/// Unicode, but its table costs the wasm 11 KB.
fn fold(c: char) -> char {
    let code = c as u32;
    let lower = match code {
        0x41..=0x5A | 0xC0..=0xDE if code != 0xD7 => code + 32,
        0x100..=0x137 | 0x14A..=0x177 if code.is_multiple_of(2) => code + 1,
        0x139..=0x148 | 0x179..=0x17E if !code.is_multiple_of(2) => code + 1,
        0x391..=0x3AB if code != 0x3A2 => code + 32,
        0x400..=0x40F => code + 80,
        0x410..=0x42F => code + 32,
        _ => code,
    };
    char::from_u32(lower).unwrap_or(c)
}

/// A link destination at `i`: the index after it, and the destination
/// unescaped. `<…>` may hold spaces; a bare one has balanced parentheses.
pub fn destination(s: &str, i: usize) -> Option<(usize, String)> {
    let b = s.as_bytes();
    if b.get(i) == Some(&b'<') {
        let mut j = i + 1;
        while let Some(&c) = b.get(j) {
            match c {
                b'\\' if b.get(j + 1).copied().is_some_and(is_ascii_punct) => j += 2,
                b'>' => return Some((j + 1, unescape(&s[i + 1..j]))),
                b'<' | b'\n' => return None,
                _ => j += 1,
            }
        }
        return None;
    }
    let mut depth = 0;
    let mut j = i;
    while let Some(&c) = b.get(j) {
        match c {
            b'\\' if b.get(j + 1).copied().is_some_and(is_ascii_punct) => {
                j += 2;
                continue;
            }
            b'(' => {
                depth += 1;
                if depth > MAX_PARENS {
                    return None;
                }
            }
            b')' if depth == 0 => break,
            b')' => depth -= 1,
            c if c <= b' ' || c == 0x7f => break,
            _ => {}
        }
        j += 1;
    }
    if depth != 0 || (j == i && b.get(j) != Some(&b')')) {
        return None;
    }
    Some((j, unescape(&s[i..j])))
}

/// A link title at `i`: `"…"`, `'…'` or `(…)`; the index after it, and the
/// title unescaped.
pub fn title(s: &str, i: usize) -> Option<(usize, String)> {
    let b = s.as_bytes();
    let close = match b.get(i)? {
        b'"' => b'"',
        b'\'' => b'\'',
        b'(' => b')',
        _ => return None,
    };
    let mut j = i + 1;
    while let Some(&c) = b.get(j) {
        if c == b'\\' && b.get(j + 1).copied().is_some_and(is_ascii_punct) {
            j += 2;
            continue;
        }
        if c == close {
            return Some((j + 1, unescape(&s[i + 1..j])));
        }
        if close == b')' && c == b'(' {
            return None;
        }
        j += 1;
    }
    None
}

/// A link reference definition at the start of `s` (a paragraph's text):
/// how many bytes it takes (through its line ending), and the definition.
pub fn ref_def(s: &str) -> Option<(usize, RefDef)> {
    let b = s.as_bytes();
    let label_end = label_end(s, 0)?;
    if b.get(label_end) != Some(&b':') {
        return None;
    }
    let label = normalize_label(&s[1..label_end - 1]);
    let start = skip_space(s, label_end + 1);
    let (after_dest, dest) = destination(s, start)?;
    if after_dest == start && b.get(start) != Some(&b'<') {
        return None;
    }
    let line_end = |at: usize| {
        let rest = &s[at..];
        let spaces = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        match b.get(at + spaces) {
            None => Some(at + spaces),
            Some(b'\n') => Some(at + spaces + 1),
            _ => None,
        }
    };
    let before_title = skip_space(s, after_dest);
    if before_title > after_dest
        && let Some((after_title, title)) = title(s, before_title)
        && let Some(end) = line_end(after_title)
    {
        let target = Target {
            dest,
            title: Some(title),
        };
        return Some((end, RefDef { label, target }));
    }
    let end = line_end(after_dest)?;
    let target = Target { dest, title: None };
    Some((end, RefDef { label, target }))
}

/// An autolink at `i` (which is `<`): `<https://…>` or `<a@b.c>`. Returns
/// the index after it, the destination and the text shown.
pub fn angle_autolink(s: &str, i: usize) -> Option<(usize, String, String)> {
    let b = s.as_bytes();
    let end = i + 1 + s[i + 1..].find('>')?;
    let inner = &s[i + 1..end];
    let scheme = inner.find(':').map(|at| &inner[..at]);
    let is_uri = scheme.is_some_and(|scheme| {
        (2..=32).contains(&scheme.len())
            && scheme.as_bytes()[0].is_ascii_alphabetic()
            && scheme
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'.' | b'-'))
    }) && !inner.bytes().any(|c| c <= b' ' || c == b'<');
    let _ = b;
    if is_uri {
        return Some((end + 1, inner.to_string(), inner.to_string()));
    }
    let (local, domain) = inner.split_once('@')?;
    let local_ok = !local.is_empty()
        && local
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b".!#$%&'*+/=?^_`{|}~-".contains(&c));
    let domain_ok = domain.split('.').all(|label| {
        let l = label.as_bytes();
        !l.is_empty()
            && l.len() <= 63
            && l[0].is_ascii_alphanumeric()
            && l[l.len() - 1].is_ascii_alphanumeric()
            && l.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
    });
    (local_ok && domain_ok).then(|| (end + 1, ["mailto:", inner].concat(), inner.to_string()))
}

/// GitHub's extended autolinks in a run of text: `www.…`, `http://…`,
/// `https://…`, `mailto:…` and bare e-mail addresses. Returns the links as
/// (start, end, destination), in order.
pub fn bare_links(text: &str) -> Vec<(usize, usize, String)> {
    let b = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !text.is_char_boundary(i) {
            i += 1;
            continue;
        }
        // Only a `w`, `h` or `m` after a boundary can start a link's prefix.
        let boundary = matches!(b[i], b'w' | b'h' | b'm')
            && (i == 0 || matches!(b[i - 1], b' ' | b'\t' | b'\n' | b'*' | b'_' | b'~' | b'('));
        let rest = &text[i..];
        // (prefix, scheme to add, where the domain starts)
        let prefix = [
            ("www.", "http://", 0),
            ("https://", "", 8),
            ("http://", "", 7),
            ("mailto:", "", 7),
        ]
        .into_iter()
        .filter(|_| boundary)
        .find(|(prefix, _, _)| rest.starts_with(prefix));
        if let Some((prefix, scheme, domain)) = prefix {
            let end = if prefix == "mailto:" {
                email_end(text, i + domain)
            } else {
                url_end(text, i, i + domain)
            };
            if let Some(end) = end {
                found.push((i, end, [scheme, &text[i..end]].concat()));
                i = end;
                continue;
            }
        }
        if b[i] == b'@'
            && let Some((start, end)) = bare_email(text, i, found.last().map_or(0, |l| l.1))
        {
            found.push((start, end, ["mailto:", &text[start..end]].concat()));
            i = end;
            continue;
        }
        i += 1;
    }
    found
}

/// The end of a `www.` or `http(s)://` link whose domain starts at `domain`.
fn url_end(text: &str, start: usize, domain: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut end = domain;
    while end < b.len() && !matches!(b[end], b' ' | b'\t' | b'\n' | b'<') {
        end += 1;
    }
    // Trailing punctuation belongs to the sentence; a `)` only when it
    // closes nothing of the link's; `&name;` at the end is an entity.
    while end > domain {
        let link = &text[start..end];
        let last = link.as_bytes()[link.len() - 1];
        let sentence = matches!(
            last,
            b'?' | b'!' | b'.' | b',' | b':' | b'*' | b'_' | b'~' | b'"' | b'\''
        );
        let unbalanced = last == b')' && link.matches(')').count() > link.matches('(').count();
        if sentence || unbalanced {
            end -= 1;
        } else if last == b';' {
            match link.rfind('&') {
                Some(amp)
                    if amp + 2 < link.len()
                        && link[amp + 1..link.len() - 1]
                            .bytes()
                            .all(|c| c.is_ascii_alphanumeric()) =>
                {
                    end = start + amp;
                }
                _ => break,
            }
        } else {
            break;
        }
    }
    let host_end = text[domain..end]
        .find(['/', '?', '#'])
        .map_or(end, |p| domain + p);
    let segments: Vec<&str> = text[domain..host_end].split('.').collect();
    let valid = segments.len() >= 2
        && segments.iter().all(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c >= 0x80)
        })
        && segments[segments.len() - 2..]
            .iter()
            .all(|s| !s.contains('_'));
    valid.then_some(end)
}

fn is_email_local(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'+' | b'-')
}

/// The end of an e-mail address whose local part starts at `start`.
fn email_end(text: &str, start: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut at = start;
    while at < b.len() && is_email_local(b[at]) {
        at += 1;
    }
    if at == start || b.get(at) != Some(&b'@') {
        return None;
    }
    domain_end(text, at + 1)
}

/// A bare e-mail address around the `@` at `at`, starting after `floor`.
fn bare_email(text: &str, at: usize, floor: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let mut start = at;
    while start > floor && is_email_local(b[start - 1]) {
        start -= 1;
    }
    if start == at {
        return None;
    }
    let boundary = start == 0 || !b[start - 1].is_ascii_alphanumeric() && b[start - 1] != b'/';
    if !boundary {
        return None;
    }
    Some((start, domain_end(text, at + 1)?))
}

/// The end of an e-mail domain at `i`: at least one dot, and it does not end
/// in `-` or `_`.
fn domain_end(text: &str, i: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut end = i;
    while end < b.len() && (b[end].is_ascii_alphanumeric() || matches!(b[end], b'-' | b'_' | b'.'))
    {
        end += 1;
    }
    while end > i && b[end - 1] == b'.' {
        end -= 1;
    }
    let domain = &text[i..end];
    let ok = domain.contains('.')
        && !domain.as_bytes().windows(2).any(|w| w == b"..")
        && !domain.starts_with('.')
        && !domain.ends_with(['-', '_']);
    ok.then_some(end)
}

#[cfg(test)]
mod tests {
    // The same tests run in headless Chromium: `cargo xtask test` (wasm-bindgen-test).
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn labels_fold_case_and_whitespace() {
        assert_eq!(normalize_label(" Foo \n  BAR "), "foo bar");
        assert_eq!(normalize_label("ẞ"), normalize_label("SS"));
        for (upper, lower) in [
            ("ÀÉÖÞ", "àéöþ"),
            ("ĀĲŁŽ", "āĳłž"),
            ("ΑΓΩ", "αγω"),
            ("ТОЛПОЙ", "толпой"),
            ("ЁЂ", "ёђ"),
        ] {
            assert_eq!(normalize_label(upper), lower, "{upper}");
            assert_eq!(normalize_label(upper), upper.to_lowercase(), "{upper}");
        }
        assert_eq!(normalize_label("×÷"), "×÷");
    }

    #[test]
    fn definitions_take_their_whole_line() {
        let (used, def) = ref_def("[Foo]: /url 'title'\nrest").unwrap();
        assert_eq!(used, 20);
        assert_eq!(def.label, "foo");
        assert_eq!(def.target.title.as_deref(), Some("title"));
        assert!(ref_def("[foo]: /url 'title' junk").is_none());
        let (_, def) = ref_def("[foo]: <a b>").unwrap();
        assert_eq!(def.target.dest, "a b");
    }

    #[test]
    fn bare_links_trim_sentence_punctuation() {
        let text = "see www.a.com/b. or (https://x.io/y(z)) and me@mail.example.";
        let links: Vec<&str> = bare_links(text).iter().map(|l| &text[l.0..l.1]).collect();
        assert_eq!(
            links,
            ["www.a.com/b", "https://x.io/y(z)", "me@mail.example"]
        );
    }
}
