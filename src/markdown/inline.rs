//! Inline Markdown, by the spec's algorithm: one pass over the text makes a
//! flat list of pieces (text, code spans, breaks, runs of `*`, `_` and `~`,
//! link brackets), links are resolved at each `]`, then emphasis by the
//! delimiter-run rules (left and right flanking, the rule of three), and
//! the pieces become a tree. GitHub's bare links are found in the text last.
//!
//! Raw HTML is text (only `<br>` means a line break, as in table cells),
//! images show their description, and a link whose target is not a safe
//! absolute URL shows its text without the link.
//!
//! For text still arriving (`open_end`), what is unfinished at the end
//! shows as what it will become: an unclosed `**` or `` ` `` formats the
//! rest of the text, a half-typed link shows its words, and a run of
//! delimiters at the very end waits for the next character.

use super::Refs;
use super::entities;
use super::links::{self, angle_autolink, bare_links, destination, is_ascii_punct, label_end};
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
    /// `~~strikethrough~~`.
    Strike(Vec<Inline>),
    /// `` `code` ``.
    Code(String),
    /// A link whose target passed [`safe_href`].
    Link {
        /// The checked target.
        href: String,
        /// The link's title, if it has one.
        title: Option<String>,
        /// The link's text.
        children: Vec<Inline>,
    },
    /// A line break inside a block (every line break: a chat answer's lines
    /// are meant as written).
    Break,
}

/// Blocks longer than this are shown as plain text: inline parsing is
/// linear in practice, but a hostile text could make it slower.
pub const MAX_INLINE_PARSE: usize = 32 * 1024;
/// Formatting nested deeper than this is flattened (its text stays).
const MAX_DEPTH: usize = 16;
const NONE: usize = usize::MAX;

/// What inline parsing found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inlines {
    /// The content.
    pub items: Vec<Inline>,
    /// A reference label was looked up and not defined: a definition that
    /// arrives later would change this content.
    pub missing_ref: bool,
}

/// Parses the text of a block, with the document's reference definitions.
/// `open_end` says more text may still arrive at its end.
pub fn parse(text: &str, refs: &Refs, open_end: bool) -> Inlines {
    let text = text.trim_matches([' ', '\t', '\n']);
    if text.len() > MAX_INLINE_PARSE {
        return Inlines {
            items: vec![Inline::Text(text.to_string())],
            missing_ref: false,
        };
    }
    let mut parser = Parser {
        s: text,
        refs,
        open_end,
        pieces: Vec::new(),
        delims: Vec::new(),
        top: NONE,
        brackets: Vec::new(),
        links: Vec::new(),
        text: String::new(),
        missing_ref: false,
        no_closer: 0,
    };
    parser.run();
    let missing_ref = parser.missing_ref;
    Inlines {
        items: parser.build(),
        missing_ref,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Em,
    Strong,
    Strike,
}

#[derive(Debug)]
enum Piece {
    Text(String),
    Code(String),
    Break,
    Delim(usize),
    /// Opens a link or image (an index into `links`).
    Open(usize),
    /// Closes the last one opened.
    Close,
}

/// A run of `*`, `_` or `~`, and what the emphasis rules made of it.
#[derive(Debug)]
struct Delim {
    ch: u8,
    /// How many of its characters are left as text.
    count: usize,
    orig: usize,
    can_open: bool,
    can_close: bool,
    /// Shows nothing of what is left (a run at the end of text still
    /// arriving, or a closer supplied for it).
    hidden: bool,
    /// Formatting this run opens (innermost first) and closes (innermost
    /// first).
    opens: Vec<Kind>,
    closes: Vec<Kind>,
    /// The delimiter stack, as a linked list.
    prev: usize,
    next: usize,
}

#[derive(Debug)]
struct LinkInfo {
    /// `None` when the target is refused: the text shows without the link.
    href: Option<String>,
    title: Option<String>,
    image: bool,
}

#[derive(Debug)]
struct Bracket {
    piece: usize,
    image: bool,
    active: bool,
    /// The top of the delimiter stack when it opened.
    delims: usize,
    /// Where the link text starts.
    text_start: usize,
}

struct Parser<'a> {
    s: &'a str,
    refs: &'a Refs,
    open_end: bool,
    pieces: Vec<Piece>,
    delims: Vec<Delim>,
    top: usize,
    brackets: Vec<Bracket>,
    links: Vec<LinkInfo>,
    /// Text not yet made a piece.
    text: String,
    missing_ref: bool,
    /// Backtick runs (by length, below 64) known to have no closer ahead.
    no_closer: u64,
}

fn is_space(c: Option<char>) -> bool {
    c.is_none_or(char::is_whitespace)
}

/// Unicode punctuation and symbols (the P and S categories), for the
/// flanking rules; the ranges are the blocks that hold them, which costs
/// far less than exact tables.
fn is_punct(c: Option<char>) -> bool {
    let Some(c) = c else { return false };
    if c.is_ascii() {
        return c.is_ascii_punctuation();
    }
    matches!(c as u32,
        0xA1..=0xA9 | 0xAB | 0xAC | 0xAE..=0xB1 | 0xB4 | 0xB6..=0xB8 | 0xBB | 0xBF | 0xD7 | 0xF7
        | 0x2010..=0x2027 | 0x2030..=0x205E | 0x20A0..=0x20C0 | 0x2190..=0x2BFF
        | 0x2E00..=0x2E5D | 0x3001..=0x3003 | 0x3008..=0x3020 | 0xFE10..=0xFE19
        | 0xFE30..=0xFE6B | 0xFF01..=0xFF0F | 0xFF1A..=0xFF20 | 0xFF3B..=0xFF40
        | 0xFF5B..=0xFF65 | 0x1F000..=0x1FAFF)
}

impl Parser<'_> {
    fn flush(&mut self) {
        if !self.text.is_empty() {
            let text = std::mem::take(&mut self.text);
            self.pieces.push(Piece::Text(text));
        }
    }

    fn push(&mut self, piece: Piece) {
        self.flush();
        self.pieces.push(piece);
    }

    fn run(&mut self) {
        let s = self.s;
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            i = match b[i] {
                b'\n' => self.line_break(i + 1),
                b'\\' if b.get(i + 1) == Some(&b'\n') => self.line_break(i + 2),
                b'\\' if b.get(i + 1).copied().is_some_and(is_ascii_punct) => {
                    self.text.push(b[i + 1] as char);
                    i + 2
                }
                b'`' => self.code_span(i),
                b'*' | b'_' | b'~' => self.delimiter_run(i),
                b'[' => self.open_bracket(i, false),
                b'!' if b.get(i + 1) == Some(&b'[') => self.open_bracket(i, true),
                b']' => self.close_bracket(i),
                b'<' => self.angle(i),
                b'&' => match entities::decode(&s[i..]) {
                    Some((used, text)) => {
                        self.text.push_str(&text);
                        i + used
                    }
                    None => {
                        self.text.push('&');
                        i + 1
                    }
                },
                _ => {
                    // A `matches!`, not a set's `contains`: a call per byte.
                    let end = b[i + 1..]
                        .iter()
                        .position(|c| {
                            matches!(
                                c,
                                b'\n'
                                    | b'\\'
                                    | b'`'
                                    | b'*'
                                    | b'_'
                                    | b'~'
                                    | b'['
                                    | b'!'
                                    | b']'
                                    | b'<'
                                    | b'&'
                            )
                        })
                        .map_or(b.len(), |p| i + 1 + p);
                    self.text.push_str(&s[i..end]);
                    end
                }
            };
        }
        if self.open_end {
            self.close_what_is_open();
        }
        self.process_emphasis(NONE);
        self.flush();
    }

    /// A line ending, whose next line starts at `after`: spaces around it
    /// are not content.
    fn line_break(&mut self, after: usize) -> usize {
        let kept = self.text.trim_end_matches(' ').len();
        self.text.truncate(kept);
        self.push(Piece::Break);
        let b = self.s.as_bytes();
        let mut i = after;
        while matches!(b.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        i
    }

    fn code_span(&mut self, i: usize) -> usize {
        let b = self.s.as_bytes();
        let run = b[i..].iter().take_while(|&&c| c == b'`').count();
        let known_none = run < 64 && self.no_closer & (1 << run) != 0;
        let mut j = i + run;
        while !known_none && j < b.len() {
            if b[j] != b'`' {
                j += 1;
                continue;
            }
            let close = b[j..].iter().take_while(|&&c| c == b'`').count();
            if close == run {
                let code = code_text(&self.s[i + run..j]);
                self.push(Piece::Code(code));
                return j + run;
            }
            j += close;
        }
        if run < 64 {
            self.no_closer |= 1 << run;
        }
        if self.open_end {
            // A code span still arriving: the rest is its code.
            let rest = self.s[i + run..].replace('\n', " ");
            let code = rest.strip_prefix(' ').unwrap_or(&rest);
            if !code.is_empty() {
                self.push(Piece::Code(code.to_string()));
            }
            return b.len();
        }
        self.text.push_str(&self.s[i..i + run]);
        i + run
    }

    fn delimiter_run(&mut self, i: usize) -> usize {
        let s = self.s;
        let b = s.as_bytes();
        let ch = b[i];
        let run = b[i..].iter().take_while(|&&c| c == ch).count();
        let before = s[..i].chars().next_back();
        let after = s[i + run..].chars().next();
        let left = !is_space(after) && (!is_punct(after) || is_space(before) || is_punct(before));
        let right = !is_space(before) && (!is_punct(before) || is_space(after) || is_punct(after));
        let (mut can_open, mut can_close) = if ch == b'_' {
            (
                left && (!right || is_punct(before)),
                right && (!left || is_punct(after)),
            )
        } else {
            (left, right)
        };
        if ch == b'~' && run > 2 {
            (can_open, can_close) = (false, false);
        }
        // At the end of text still arriving, a run waits for what follows.
        let hidden = self.open_end && i + run == b.len();
        if hidden {
            (can_open, can_close) = (false, false);
        }
        self.push_delim(ch, run, run, can_open, can_close, hidden);
        i + run
    }

    fn push_delim(
        &mut self,
        ch: u8,
        count: usize,
        orig: usize,
        can_open: bool,
        can_close: bool,
        hidden: bool,
    ) {
        let index = self.delims.len();
        self.delims.push(Delim {
            ch,
            count,
            orig,
            can_open,
            can_close,
            hidden,
            opens: Vec::new(),
            closes: Vec::new(),
            prev: self.top,
            next: NONE,
        });
        if self.top != NONE {
            self.delims[self.top].next = index;
        }
        self.top = index;
        self.push(Piece::Delim(index));
    }

    fn remove_delim(&mut self, d: usize) {
        let Delim { prev, next, .. } = self.delims[d];
        if prev != NONE {
            self.delims[prev].next = next;
        }
        if next != NONE {
            self.delims[next].prev = prev;
        } else {
            self.top = prev;
        }
    }

    fn open_bracket(&mut self, i: usize, image: bool) -> usize {
        let len = if image { 2 } else { 1 };
        self.push(Piece::Text(self.s[i..i + len].to_string()));
        self.brackets.push(Bracket {
            piece: self.pieces.len() - 1,
            image,
            active: true,
            delims: self.top,
            text_start: i + len,
        });
        i + len
    }

    /// A `]`: a link or image if what follows makes one, else text.
    fn close_bracket(&mut self, i: usize) -> usize {
        let s = self.s;
        let b = s.as_bytes();
        let after = i + 1;
        let Some(bracket) = self.brackets.last() else {
            self.text.push(']');
            return after;
        };
        if !bracket.active {
            self.brackets.pop();
            self.text.push(']');
            return after;
        }
        let mut link = None;
        if b.get(after) == Some(&b'(') {
            link = inline_link(s, after);
        }
        if link.is_none() {
            // The link text as its own label, for `[text]` and `[text][]`.
            let own = (label_end(s, bracket.text_start - 1) == Some(after))
                .then(|| &s[bracket.text_start..i]);
            let (label, end) = if s[after..].starts_with("[]") {
                (own, after + 2)
            } else if b.get(after) == Some(&b'[') {
                match label_end(s, after) {
                    Some(end) => (Some(&s[after + 1..end - 1]), end),
                    None => (own, after),
                }
            } else {
                (own, after)
            };
            if let Some(label) = label {
                match self.refs.get(&links::normalize_label(label)) {
                    Some(target) => link = Some((end, target.dest.clone(), target.title.clone())),
                    None => self.missing_ref = true,
                }
            }
        }
        if link.is_none()
            && self.open_end
            && (after == b.len() || b.get(after) == Some(&b'(') && !s[after..].contains(')'))
        {
            // A link still arriving: its words, nothing of its target yet.
            link = Some((b.len(), String::new(), None));
        }
        let Some((end, dest, title)) = link else {
            self.brackets.pop();
            self.text.push(']');
            return after;
        };
        let bracket = self.brackets.pop().expect("checked above");
        self.flush();
        self.links.push(LinkInfo {
            href: safe_href(&dest),
            title,
            image: bracket.image,
        });
        self.pieces[bracket.piece] = Piece::Open(self.links.len() - 1);
        self.process_emphasis(bracket.delims);
        self.pieces.push(Piece::Close);
        if !bracket.image {
            // Links may not contain links.
            for earlier in &mut self.brackets {
                if !earlier.image {
                    earlier.active = false;
                }
            }
        }
        end
    }

    /// `<`: an autolink, a `<br>`, or text.
    fn angle(&mut self, i: usize) -> usize {
        let rest = &self.s.as_bytes()[i..];
        for br in ["<br>", "<br/>", "<br />"] {
            if rest
                .get(..br.len())
                .is_some_and(|b| b.eq_ignore_ascii_case(br.as_bytes()))
            {
                self.push(Piece::Break);
                return i + br.len();
            }
        }
        match angle_autolink(self.s, i) {
            Some((end, dest, text)) => {
                self.links.push(LinkInfo {
                    href: safe_href(&dest),
                    title: None,
                    image: false,
                });
                self.push(Piece::Open(self.links.len() - 1));
                self.push(Piece::Text(text));
                self.push(Piece::Close);
                end
            }
            None => {
                self.text.push('<');
                i + 1
            }
        }
    }

    /// Text still arriving: brackets that may yet become links hide, and
    /// every run that opens formatting gets a closer at the end.
    fn close_what_is_open(&mut self) {
        for bracket in std::mem::take(&mut self.brackets) {
            if bracket.active {
                self.pieces[bracket.piece] = Piece::Text(String::new());
            }
        }
        let mut openers = Vec::new();
        let mut d = self.top;
        while d != NONE {
            let delim = &self.delims[d];
            if delim.can_open && delim.count > 0 {
                openers.push((delim.ch, delim.count, delim.orig));
            }
            d = delim.prev;
        }
        for (ch, count, orig) in openers {
            self.push_delim(ch, count, orig, false, true, true);
        }
    }

    /// The emphasis rules, for the delimiters above `bottom`.
    fn process_emphasis(&mut self, bottom: usize) {
        let mut openers_bottom = [[bottom; 6]; 3];
        let mut closer = self.top;
        if closer == bottom {
            return;
        }
        while closer != NONE && self.delims[closer].prev != bottom {
            closer = self.delims[closer].prev;
        }
        while closer != NONE {
            let c = &self.delims[closer];
            if !c.can_close {
                closer = c.next;
                continue;
            }
            let ch = c.ch;
            let chi = match ch {
                b'*' => 0,
                b'_' => 1,
                _ => 2,
            };
            let bi = if c.can_open { 3 } else { 0 } + c.orig % 3;
            let mut opener = c.prev;
            let mut found = false;
            while opener != NONE && opener != bottom && opener != openers_bottom[chi][bi] {
                let o = &self.delims[opener];
                let odd = (c.can_open || o.can_close)
                    && !c.orig.is_multiple_of(3)
                    && (o.orig + c.orig).is_multiple_of(3);
                let fits = if ch == b'~' { o.count == c.count } else { !odd };
                if o.ch == ch && o.can_open && fits {
                    found = true;
                    break;
                }
                opener = o.prev;
            }
            if !found {
                let next = c.next;
                openers_bottom[chi][bi] = c.prev;
                if !c.can_open {
                    self.remove_delim(closer);
                }
                closer = next;
                continue;
            }
            let used = if ch == b'~' {
                c.count
            } else if c.count >= 2 && self.delims[opener].count >= 2 {
                2
            } else {
                1
            };
            let kind = match (ch, used) {
                (b'~', _) => Kind::Strike,
                (_, 1) => Kind::Em,
                _ => Kind::Strong,
            };
            self.delims[opener].count -= used;
            self.delims[opener].opens.push(kind);
            self.delims[closer].count -= used;
            self.delims[closer].closes.push(kind);
            let mut between = self.delims[opener].next;
            while between != closer {
                let next = self.delims[between].next;
                self.remove_delim(between);
                between = next;
            }
            if self.delims[opener].count == 0 {
                self.remove_delim(opener);
            }
            if self.delims[closer].count == 0 {
                let next = self.delims[closer].next;
                self.remove_delim(closer);
                closer = next;
            }
        }
        while self.top != bottom && self.top != NONE {
            self.remove_delim(self.top);
        }
    }

    /// The pieces as a tree.
    fn build(self) -> Vec<Inline> {
        let mut tree = Tree {
            stack: vec![(Frame::Root, Vec::new())],
            skipped: 0,
            in_link: 0,
        };
        for piece in self.pieces {
            match piece {
                Piece::Text(text) => tree.text(&text),
                Piece::Code(code) => tree.push(Inline::Code(code)),
                Piece::Break => tree.push(Inline::Break),
                Piece::Delim(d) => {
                    let delim = &self.delims[d];
                    for _ in &delim.closes {
                        tree.close(&self.links);
                    }
                    if !delim.hidden && delim.count > 0 {
                        let mark = [delim.ch; 64];
                        let mut left = delim.count;
                        while left > 0 {
                            let n = left.min(64);
                            tree.text(std::str::from_utf8(&mark[..n]).unwrap_or_default());
                            left -= n;
                        }
                    }
                    for kind in delim.opens.iter().rev() {
                        tree.open(match kind {
                            Kind::Em => Frame::Em,
                            Kind::Strong => Frame::Strong,
                            Kind::Strike => Frame::Strike,
                        });
                    }
                }
                Piece::Open(link) => tree.open(Frame::Link(link)),
                Piece::Close => tree.close(&self.links),
            }
        }
        while tree.stack.len() > 1 {
            tree.close(&self.links);
        }
        let (_, mut items) = tree.stack.pop().expect("the root");
        autolink(&mut items);
        items
    }
}

/// An inline link's `(destination "title")` at `at` (which is `(`): the index
/// after it, the destination and the title.
fn inline_link(s: &str, at: usize) -> Option<(usize, String, Option<String>)> {
    let b = s.as_bytes();
    let start = links::skip_space(s, at + 1);
    let (after_dest, dest) = destination(s, start)?;
    let mut end = links::skip_space(s, after_dest);
    let mut title = None;
    if end > after_dest
        && let Some((after_title, t)) = links::title(s, end)
    {
        title = Some(t);
        end = links::skip_space(s, after_title);
    }
    (b.get(end) == Some(&b')')).then(|| (end + 1, dest, title))
}

/// A code span's text: line endings are spaces, and one space on each side
/// is removed when both are there (so `` ` `` can be shown).
fn code_text(raw: &str) -> String {
    let code = raw.replace('\n', " ");
    let b = code.as_bytes();
    if b.len() >= 2 && b[0] == b' ' && b[b.len() - 1] == b' ' && b.iter().any(|&c| c != b' ') {
        code[1..code.len() - 1].to_string()
    } else {
        code
    }
}

#[derive(Debug, Clone, Copy)]
enum Frame {
    Root,
    Em,
    Strong,
    Strike,
    Link(usize),
}

/// Builds the tree from properly nested opens and closes.
struct Tree {
    stack: Vec<(Frame, Vec<Inline>)>,
    /// Opens past the depth limit, whose closes are skipped too.
    skipped: usize,
    in_link: usize,
}

impl Tree {
    fn children(&mut self) -> &mut Vec<Inline> {
        &mut self.stack.last_mut().expect("the root is never closed").1
    }

    fn text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        let children = self.children();
        if let Some(Inline::Text(last)) = children.last_mut() {
            last.push_str(text);
        } else {
            children.push(Inline::Text(text.to_string()));
        }
    }

    fn push(&mut self, inline: Inline) {
        match inline {
            Inline::Text(text) => self.text(&text),
            inline => self.children().push(inline),
        }
    }

    fn open(&mut self, frame: Frame) {
        if self.stack.len() > MAX_DEPTH {
            self.skipped += 1;
            return;
        }
        if matches!(frame, Frame::Link(_)) {
            self.in_link += 1;
        }
        self.stack.push((frame, Vec::new()));
    }

    fn close(&mut self, links: &[LinkInfo]) {
        if self.skipped > 0 {
            self.skipped -= 1;
            return;
        }
        if self.stack.len() < 2 {
            return;
        }
        let (frame, mut children) = self.stack.pop().expect("checked above");
        if !matches!(frame, Frame::Link(_)) && self.in_link == 0 {
            autolink(&mut children);
        }
        let inline = match frame {
            Frame::Root => return,
            Frame::Em => Inline::Emphasis(children),
            Frame::Strong => Inline::Strong(children),
            Frame::Strike => Inline::Strike(children),
            Frame::Link(link) => {
                self.in_link -= 1;
                let link = &links[link];
                match (&link.href, link.image) {
                    (_, true) => Inline::Text(plain_text(&children)),
                    (Some(href), false) => Inline::Link {
                        href: href.clone(),
                        title: link.title.clone(),
                        children,
                    },
                    (None, false) => {
                        for child in children {
                            self.push(child);
                        }
                        return;
                    }
                }
            }
        };
        self.push(inline);
    }
}

/// The text of inline content, without its formatting (an image's description).
fn plain_text(items: &[Inline]) -> String {
    let mut out = String::new();
    for item in items {
        match item {
            Inline::Text(text) | Inline::Code(text) => out.push_str(text),
            Inline::Break => out.push(' '),
            Inline::Emphasis(children)
            | Inline::Strong(children)
            | Inline::Strike(children)
            | Inline::Link { children, .. } => out.push_str(&plain_text(children)),
        }
    }
    out
}

/// Whether `text` holds a `:`, an `@` or `www.`, as every bare link does:
/// most prose (whose sentences end in `.`) is not scanned for links at all.
/// Byte by byte: `str::contains` with a set of chars decodes every char.
fn may_hold_bare_link(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b':' || b == b'@' || (b == b'w' && bytes[i..].starts_with(b"www.")))
}

/// Turns GitHub's bare links in the text items into links.
fn autolink(items: &mut Vec<Inline>) {
    if !items
        .iter()
        .any(|item| matches!(item, Inline::Text(t) if may_hold_bare_link(t)))
    {
        return;
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items.drain(..) {
        let Inline::Text(text) = item else {
            out.push(item);
            continue;
        };
        let mut from = 0;
        for (start, end, dest) in bare_links(&text) {
            let Some(href) = safe_href(&dest) else {
                continue;
            };
            if start > from {
                out.push(Inline::Text(text[from..start].to_string()));
            }
            out.push(Inline::Link {
                href,
                title: None,
                children: vec![Inline::Text(text[start..end].to_string())],
            });
            from = end;
        }
        if from == 0 {
            out.push(Inline::Text(text));
        } else if from < text.len() {
            out.push(Inline::Text(text[from..].to_string()));
        }
    }
    *items = out;
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

    fn p(text: &str) -> Vec<Inline> {
        parse(text, &Refs::default(), false).items
    }

    fn streaming(text: &str) -> Vec<Inline> {
        parse(text, &Refs::default(), true).items
    }

    fn link(href: &str, text: &str) -> Inline {
        Link {
            href: href.into(),
            title: None,
            children: vec![t(text)],
        }
    }

    #[test]
    fn plain_text_stays_one_piece() {
        assert_eq!(p("hello world"), [t("hello world")]);
        assert_eq!(p("math: 2 * 3 * 4"), [t("math: 2 * 3 * 4")]);
    }

    #[test]
    fn emphasis_strong_strike_and_the_rule_of_three() {
        assert_eq!(
            p("*a* **b** ***c*** ~~d~~"),
            [
                Emphasis(vec![t("a")]),
                t(" "),
                Strong(vec![t("b")]),
                t(" "),
                Emphasis(vec![Strong(vec![t("c")])]),
                t(" "),
                Strike(vec![t("d")]),
            ]
        );
        assert_eq!(
            p("*foo**bar**baz*"),
            [Emphasis(vec![t("foo"), Strong(vec![t("bar")]), t("baz")])]
        );
        assert_eq!(
            p("_x_ and snake_case_name"),
            [Emphasis(vec![t("x")]), t(" and snake_case_name")]
        );
        assert_eq!(p("~~~not~~~"), [t("~~~not~~~")]);
    }

    #[test]
    fn unclosed_marks_are_text_once_the_text_is_complete() {
        assert_eq!(p("**bold without end"), [t("**bold without end")]);
        assert_eq!(p("* not emphasis *"), [t("* not emphasis *")]);
        assert_eq!(p("`unclosed"), [t("`unclosed")]);
    }

    #[test]
    fn text_still_arriving_shows_the_formatting_it_will_have() {
        assert_eq!(
            streaming("Some **bold te"),
            [t("Some "), Strong(vec![t("bold te")])]
        );
        assert_eq!(
            streaming("Some **bold**"),
            [t("Some "), Strong(vec![t("bold")])]
        );
        assert_eq!(streaming("Some **"), [t("Some ")]);
        assert_eq!(streaming("run `npm i"), [t("run "), Code("npm i".into())]);
        assert_eq!(streaming("see [the docs"), [t("see the docs")]);
        assert_eq!(streaming("see [docs](https://exa"), [t("see docs")]);
        assert_eq!(streaming("see [docs]"), [t("see docs")]);
        assert_eq!(
            streaming("*a **b"),
            [Emphasis(vec![t("a "), Strong(vec![t("b")])])]
        );
    }

    #[test]
    fn code_spans_keep_their_text_literally() {
        assert_eq!(
            p("use `*x*` and `` a`b ``"),
            [
                t("use "),
                Code("*x*".into()),
                t(" and "),
                Code("a`b".into())
            ]
        );
    }

    #[test]
    fn escapes_entities_and_line_breaks() {
        assert_eq!(p(r"\*not em\* a\b &copy; &#35;"), [t("*not em* a\\b © #")]);
        assert_eq!(
            p("one  \ntwo\\\nthree"),
            [t("one"), Break, t("two"), Break, t("three")]
        );
        assert_eq!(p("a<br>b"), [t("a"), Break, t("b")]);
    }

    #[test]
    fn links_only_to_safe_schemes_with_titles_and_references() {
        assert_eq!(
            p("[docs](https://x.io/a?b=1)"),
            [link("https://x.io/a?b=1", "docs")]
        );
        assert_eq!(
            p("[mail](mailto:a@b.c \"title\")"),
            [Link {
                href: "mailto:a@b.c".into(),
                title: Some("title".into()),
                children: vec![t("mail")]
            }]
        );
        assert_eq!(p("[x](javascript:alert(1))"), [t("x")]);
        assert_eq!(p("[x](/relative)"), [t("x")]);
        let mut refs = Refs::default();
        refs.define(
            "docs".into(),
            super::super::Target {
                dest: "https://d.io".into(),
                title: None,
            },
        );
        let parsed = parse("[Docs] and [x][docs] and [y][nope]", &refs, false);
        assert_eq!(
            parsed.items,
            [
                link("https://d.io", "Docs"),
                t(" and "),
                link("https://d.io", "x"),
                t(" and [y][nope]")
            ]
        );
        assert!(parsed.missing_ref);
    }

    #[test]
    fn autolinks_and_bare_urls() {
        assert_eq!(
            p("<https://a.b/c>"),
            [link("https://a.b/c", "https://a.b/c")]
        );
        assert_eq!(
            p("see https://a.b/c. or www.x.io"),
            [
                t("see "),
                link("https://a.b/c", "https://a.b/c"),
                t(". or "),
                link("http://www.x.io", "www.x.io")
            ]
        );
        assert_eq!(p("<javascript:alert(1)>"), [t("javascript:alert(1)")]);
        assert_eq!(
            p("mail me@acme.test"),
            [t("mail "), link("mailto:me@acme.test", "me@acme.test")]
        );
    }

    #[test]
    fn images_show_their_description() {
        assert_eq!(p("![a *cat*](https://x/c.png) here"), [t("a cat here")]);
    }

    #[test]
    fn raw_html_is_text() {
        assert_eq!(
            p("<script>alert(1)</script>"),
            [t("<script>alert(1)</script>")]
        );
        assert_eq!(
            p("<img src=x onerror=alert(1)>"),
            [t("<img src=x onerror=alert(1)>")]
        );
    }

    #[test]
    fn pathological_nesting_is_bounded() {
        let deep = "*a ".repeat(5000);
        assert!(!p(&deep).is_empty());
        let nested = format!("{}x{}", "*a ".repeat(100), " a*".repeat(100));
        assert!(!p(&nested).is_empty());
        let long = "x".repeat(MAX_INLINE_PARSE + 1);
        assert_eq!(p(&long), [t(&long)]);
    }
}
