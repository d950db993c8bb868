//! Markdown for streamed answers, as plain data: no DOM, no HTML strings.
//!
//! [`blocks`] splits text into blocks (paragraphs, headings, fenced code,
//! lists, quotes, rules) and says which of them are finished, so a renderer
//! builds each finished block once and re-parses only the unfinished tail as
//! text streams in. [`inline`] parses the text inside a block (emphasis, code,
//! links). [`tree`] turns blocks into an element tree drawn from a fixed
//! allowlist of tags and attributes, with links only to `http`, `https` and
//! `mailto`: model text can reach the page only as text nodes.

pub mod inline;
pub mod tree;

/// A block of a Markdown document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// Text, with inline formatting.
    Paragraph(String),
    /// `#` to `######`.
    Heading {
        /// 1 to 6.
        level: u8,
        /// The heading's text.
        text: String,
    },
    /// A fenced code block; `text` is shown exactly as written.
    Code {
        /// The info string's first word, e.g. `rust`.
        lang: String,
        /// The code.
        text: String,
    },
    /// A bulleted or numbered list; each item holds its own blocks.
    List {
        /// The first number of a numbered list; `None` for bullets.
        start: Option<u64>,
        /// The items.
        items: Vec<Vec<Block>>,
    },
    /// `>` lines.
    Quote(Vec<Block>),
    /// `---`, `***` or `___`.
    Rule,
}

/// Blocks parsed from a text, and how much of the text they settle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The blocks, in order.
    pub blocks: Vec<Block>,
    /// How many leading blocks are finished: nothing more can change them.
    pub finished: usize,
    /// The byte offset where the unfinished blocks start (the end of the
    /// finished ones, including the lines that ended them).
    pub finished_end: usize,
}

/// What starts a line, once its indentation is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineKind {
    Blank,
    Heading(u8),
    Fence(u8, usize),
    Rule,
    Quote,
    Bullet,
    Number(u64),
    Text,
}

struct Line<'a> {
    text: &'a str,
    /// Offset of the byte after this line's newline (or the text's end).
    end: usize,
    /// Whether the line ended with a newline (so it is complete).
    complete: bool,
}

fn lines(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < text.len() {
        match text[start..].find('\n') {
            Some(i) => {
                out.push(Line {
                    text: &text[start..start + i],
                    end: start + i + 1,
                    complete: true,
                });
                start += i + 1;
            }
            None => {
                out.push(Line {
                    text: &text[start..],
                    end: text.len(),
                    complete: false,
                });
                start = text.len();
            }
        }
    }
    out
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn kind(line: &str) -> LineKind {
    if indent(line) > 3 {
        return if line.trim().is_empty() {
            LineKind::Blank
        } else {
            LineKind::Text
        };
    }
    let t = line.trim_start_matches(' ');
    if t.trim().is_empty() {
        return LineKind::Blank;
    }
    let first = t.as_bytes()[0];
    if first == b'#' {
        let level = t.bytes().take_while(|&b| b == b'#').count();
        if level <= 6 && (t.len() == level || t.as_bytes()[level] == b' ') {
            return LineKind::Heading(level as u8);
        }
    }
    if first == b'`' || first == b'~' {
        let run = t.bytes().take_while(|&b| b == first).count();
        if run >= 3 && !(first == b'`' && t[run..].contains('`')) {
            return LineKind::Fence(first, run);
        }
    }
    if matches!(first, b'-' | b'*' | b'_') {
        let marks = t.bytes().filter(|&b| b == first).count();
        if marks >= 3 && t.bytes().all(|b| b == first || b == b' ') {
            return LineKind::Rule;
        }
    }
    if first == b'>' {
        return LineKind::Quote;
    }
    if matches!(first, b'-' | b'*' | b'+') && (t.len() == 1 || t.as_bytes()[1] == b' ') {
        return LineKind::Bullet;
    }
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if (1..=9).contains(&digits)
        && matches!(t.as_bytes().get(digits), Some(b'.' | b')'))
        && matches!(t.as_bytes().get(digits + 1), None | Some(b' '))
    {
        return LineKind::Number(t[..digits].parse().unwrap_or(1));
    }
    LineKind::Text
}

/// A list item's first line: its content after the marker, and the column
/// where the content starts (continuation lines are indented to it).
fn item_content(line: &str) -> (&str, usize) {
    let lead = indent(line);
    let t = &line[lead..];
    let marker = t.bytes().take_while(u8::is_ascii_digit).count() + 1;
    let rest = &t[marker..];
    let spaces = rest.len() - rest.trim_start_matches(' ').len();
    let spaces = if rest.trim().is_empty() || spaces > 4 {
        1
    } else {
        spaces.max(1)
    };
    (rest.get(spaces..).unwrap_or(""), lead + marker + spaces)
}

/// Whether the fence line `t` (indentation removed) closes a fence of `run` `mark`s.
fn closes_fence(t: &str, mark: u8, run: usize) -> bool {
    t.bytes().take_while(|&b| b == mark).count() >= run
        && t.trim_start_matches(mark as char).trim().is_empty()
}

/// One block starting at line `i`: the block, the index of the first line
/// after it, and whether it is finished (a complete line or fence ended it).
fn block_at(lines: &[Line<'_>], i: usize, kind_of_first: LineKind) -> (Block, usize, bool) {
    let line = &lines[i];
    // A block is finished when the line after it is complete: only then is
    // it certain that line does not continue it.
    let ended_by = |j: usize| lines.get(j).is_some_and(|l| l.complete);
    match kind_of_first {
        LineKind::Heading(level) => {
            let t = line.text.trim_start_matches(' ')[level as usize..].trim();
            let text = t.trim_end_matches('#').trim_end().to_string();
            (Block::Heading { level, text }, i + 1, line.complete)
        }
        LineKind::Rule => (Block::Rule, i + 1, line.complete),
        LineKind::Fence(mark, run) => {
            let lead = indent(line.text);
            let lang = line.text[lead + run..]
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_string();
            let mut text = String::new();
            let mut j = i + 1;
            while j < lines.len() {
                let l = &lines[j];
                let t = l.text.trim_start_matches(' ');
                if indent(l.text) <= 3 && l.complete && closes_fence(t, mark, run) {
                    text.pop(); // the newline before the closing fence
                    return (Block::Code { lang, text }, j + 1, true);
                }
                if !l.complete && !t.is_empty() && t.bytes().all(|b| b == mark) {
                    // Perhaps the closing fence, still arriving: show none of it.
                    break;
                }
                text.push_str(&l.text[indent(l.text).min(lead)..]);
                if l.complete {
                    text.push('\n');
                }
                j += 1;
            }
            (Block::Code { lang, text }, lines.len(), false)
        }
        LineKind::Quote => {
            let mut inner = String::new();
            let mut j = i;
            while j < lines.len() && kind(lines[j].text) == LineKind::Quote {
                let t = &lines[j].text.trim_start_matches(' ')[1..];
                inner.push_str(t.strip_prefix(' ').unwrap_or(t));
                inner.push('\n');
                j += 1;
            }
            (Block::Quote(parse(&inner, true).blocks), j, ended_by(j))
        }
        LineKind::Bullet | LineKind::Number(_) => {
            let (ordered, start) = match kind_of_first {
                LineKind::Number(n) => (true, Some(n)),
                _ => (false, None),
            };
            let mut items: Vec<String> = Vec::new();
            let mut content_column = 0;
            let mut j = i;
            while j < lines.len() {
                let l = &lines[j];
                let lk = kind(l.text);
                let same_kind = match lk {
                    LineKind::Bullet => !ordered,
                    LineKind::Number(_) => ordered,
                    _ => false,
                };
                if same_kind && (items.is_empty() || indent(l.text) < content_column) {
                    let (content, column) = item_content(l.text);
                    content_column = column;
                    items.push(String::from(content));
                } else if lk == LineKind::Blank {
                    break;
                } else if indent(l.text) >= content_column {
                    // A continuation, or a nested block, inside the item.
                    let item = items.last_mut().expect("a list starts with an item");
                    item.push('\n');
                    item.push_str(&l.text[content_column..]);
                } else if lk == LineKind::Text {
                    // A lazy continuation of the item's paragraph.
                    let item = items.last_mut().expect("a list starts with an item");
                    item.push('\n');
                    item.push_str(l.text.trim_start());
                } else {
                    break;
                }
                j += 1;
            }
            let items = items.iter().map(|item| parse(item, true).blocks).collect();
            (Block::List { start, items }, j, ended_by(j))
        }
        LineKind::Text | LineKind::Blank => {
            let mut text = String::from(line.text.trim());
            let mut j = i + 1;
            while j < lines.len() {
                let l = &lines[j];
                let interrupts = match kind(l.text) {
                    LineKind::Text => false,
                    // Only a list starting at 1 may interrupt a paragraph.
                    LineKind::Number(n) => n == 1,
                    _ => true,
                };
                // An incomplete line may still turn out to be text: until it
                // is complete, it continues the paragraph.
                if interrupts && l.complete {
                    break;
                }
                text.push('\n');
                text.push_str(l.text.trim());
                j += 1;
            }
            (Block::Paragraph(text), j, ended_by(j))
        }
    }
}

/// Parses `text` into blocks. `done` says the text is complete (the stream
/// ended), which finishes every block.
pub fn parse(text: &str, done: bool) -> Parsed {
    let lines = lines(text);
    let mut parsed = Parsed {
        blocks: Vec::new(),
        finished: 0,
        finished_end: 0,
    };
    let mut i = 0;
    while i < lines.len() {
        let k = kind(lines[i].text);
        if k == LineKind::Blank {
            if lines[i].complete && parsed.finished == parsed.blocks.len() {
                parsed.finished_end = lines[i].end;
            }
            i += 1;
            continue;
        }
        let (block, next, finished) = block_at(&lines, i, k);
        parsed.blocks.push(block);
        if finished && parsed.finished + 1 == parsed.blocks.len() {
            parsed.finished += 1;
            parsed.finished_end = lines[next - 1].end;
        }
        i = next;
    }
    if done {
        parsed.finished = parsed.blocks.len();
        parsed.finished_end = text.len();
    }
    parsed
}

#[cfg(test)]
mod tests {
    // The same tests run in headless Chromium: `cargo xtask test` (wasm-bindgen-test).
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn para(text: &str) -> Block {
        Block::Paragraph(text.into())
    }

    #[test]
    fn paragraphs_are_split_by_blank_lines() {
        let parsed = parse("one\ntwo\n\nthree", false);
        assert_eq!(parsed.blocks, [para("one\ntwo"), para("three")]);
        assert_eq!((parsed.finished, parsed.finished_end), (1, 9));
    }

    #[test]
    fn the_last_block_is_finished_only_when_the_stream_is() {
        assert_eq!(parse("a\n\nb", false).finished, 1);
        assert_eq!(parse("a\n\nb", true).finished, 2);
        assert_eq!(parse("a\n\nb", true).finished_end, 4);
    }

    #[test]
    fn headings_rules_and_quotes() {
        let parsed = parse("# Title #\n## Sub\n---\n> quoted\n> more\n\ntext\n", true);
        assert_eq!(
            parsed.blocks,
            [
                Block::Heading {
                    level: 1,
                    text: "Title".into()
                },
                Block::Heading {
                    level: 2,
                    text: "Sub".into()
                },
                Block::Rule,
                Block::Quote(vec![para("quoted\nmore")]),
                para("text"),
            ]
        );
        assert_eq!(parse("#nospace", true).blocks, [para("#nospace")]);
    }

    #[test]
    fn fenced_code_keeps_its_text_and_language() {
        let parsed = parse("```rust\nfn main() {\n    <b>\n}\n```\nafter", true);
        assert_eq!(
            parsed.blocks,
            [
                Block::Code {
                    lang: "rust".into(),
                    text: "fn main() {\n    <b>\n}".into()
                },
                para("after")
            ]
        );
    }

    #[test]
    fn an_open_fence_streams_its_lines_and_hides_a_half_arrived_closing_fence() {
        let parsed = parse("```\nline 1\nline", false);
        assert_eq!(
            parsed.blocks,
            [Block::Code {
                lang: String::new(),
                text: "line 1\nline".into()
            }]
        );
        assert_eq!(parsed.finished, 0);
        let parsed = parse("```\nline 1\n``", false);
        assert_eq!(
            parsed.blocks,
            [Block::Code {
                lang: String::new(),
                text: "line 1\n".into()
            }]
        );
        let parsed = parse("```\nline 1\n```\n", false);
        assert_eq!(
            parsed.finished, 1,
            "a complete closing fence finishes the block"
        );
    }

    #[test]
    fn a_blank_line_inside_a_fence_does_not_end_it() {
        let parsed = parse("```\na\n\nb\n```\n", false);
        assert_eq!(
            parsed.blocks,
            [Block::Code {
                lang: String::new(),
                text: "a\n\nb".into()
            }]
        );
    }

    #[test]
    fn bulleted_and_numbered_lists() {
        let parsed = parse("- one\n- two\n  still two\n\n3. three\n4. four\n", true);
        assert_eq!(
            parsed.blocks,
            [
                Block::List {
                    start: None,
                    items: vec![vec![para("one")], vec![para("two\nstill two")]]
                },
                Block::List {
                    start: Some(3),
                    items: vec![vec![para("three")], vec![para("four")]]
                },
            ]
        );
    }

    #[test]
    fn nested_lists_live_inside_their_item() {
        let parsed = parse("- a\n  - b\n  - c\n- d\n", true);
        assert_eq!(
            parsed.blocks,
            [Block::List {
                start: None,
                items: vec![
                    vec![
                        para("a"),
                        Block::List {
                            start: None,
                            items: vec![vec![para("b")], vec![para("c")]]
                        }
                    ],
                    vec![para("d")],
                ],
            }]
        );
    }

    #[test]
    fn a_list_interrupts_a_paragraph_but_only_numbered_from_one() {
        assert_eq!(parse("text\n- item\n", true).blocks.len(), 2);
        assert_eq!(
            parse("text\n2. not a list\n", true).blocks,
            [para("text\n2. not a list")]
        );
    }

    #[test]
    fn finished_blocks_never_change_as_more_text_arrives() {
        let text =
            "Intro line.\n\n# Head\n- a\n- b\n\n```js\nlet x = 1;\n```\n> q\n\nEnd *of* `it`.\n";
        for cut in 0..=text.len() {
            if !text.is_char_boundary(cut) {
                continue;
            }
            let partial = parse(&text[..cut], false);
            let whole = parse(text, true);
            assert_eq!(
                partial.blocks[..partial.finished],
                whole.blocks[..partial.finished],
                "cut at {cut}: {:?}",
                &text[..cut]
            );
            // Re-parsing only the unfinished tail gives the same blocks.
            let tail = parse(&text[partial.finished_end..cut], false);
            assert_eq!(
                tail.blocks,
                partial.blocks[partial.finished..],
                "cut at {cut}"
            );
        }
    }
}
