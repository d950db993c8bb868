//! The streaming model of one answer, apart from the DOM: text arrives in
//! pieces, and after each [`Stream::update`] the renderer learns which
//! blocks became final (built once, never again), which final blocks must
//! be built again because a link reference definition arrived after them
//! (rare: `[docs]` above, `[docs]: https://…` below), and what the
//! unfinished tail shows now.
//!
//! The tail never shows syntax that will vanish: a last line still being
//! typed that holds only markers (`-`, `1.`, `#`, ` ``` `, `|`, `- [`) waits
//! for its first word, a line that may be a table's header waits for the
//! delimiter row (see [`super::blocks::parse`]), and unfinished inline
//! formatting shows as what it will become (see [`super::inline`]). When
//! the stream ends, the trees are exactly those of the whole text.

use super::tree::{Builder, Node};
use super::{Block, Refs, blocks};

/// How much of one answer's text is built for good. The text itself is
/// the caller's (the view that receives it), handed to each [`Stream::update`].
#[derive(Debug, Default)]
pub struct Stream {
    /// The text before this offset is built for good.
    committed_end: usize,
    /// How many blocks are built for good.
    committed: usize,
    /// The definitions in the committed text.
    refs: Refs,
    /// Final blocks whose content used a label not defined when they were
    /// built: their index, the block, and the tree shown.
    waiting: Vec<(usize, Block, Node)>,
}

/// A block that became final.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Final {
    /// Its index among the answer's final blocks.
    pub index: usize,
    /// Its tree.
    pub node: Node,
    /// A definition that arrives later may rebuild it (keep its DOM node).
    pub may_change: bool,
}

/// What changed since the last update.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Update {
    /// Blocks that became final, in order.
    pub finished: Vec<Final>,
    /// Final blocks to build again: their index and new tree.
    pub rebuilt: Vec<(usize, Node)>,
    /// What the unfinished blocks show now (empty once the stream is done).
    pub tail: Vec<Node>,
}

impl Stream {
    /// Parses what of `text` (the answer so far, which only ever grows) is
    /// not final yet, and says what changed; `done` once it is complete:
    /// every block becomes final.
    pub fn update(&mut self, text: &str, done: bool) -> Update {
        let tail = &text[self.committed_end..];
        let shown = if done {
            tail
        } else {
            without_unsettled_line(tail)
        };
        let mut parsed = blocks::parse(shown, done);
        let mut update = Update::default();

        let refs_grew = !parsed.refs.is_empty();
        self.refs.extend(&parsed.refs);
        if refs_grew {
            for (index, block, shown) in &mut self.waiting {
                let node = Builder::new(&self.refs).block(block, false);
                if node != *shown {
                    update.rebuilt.push((*index, node.clone()));
                    *shown = node;
                }
            }
        }
        for block in parsed.blocks.drain(..parsed.finished) {
            let mut builder = Builder::new(&self.refs);
            let node = builder.block(&block, false);
            let may_change = builder.missing_ref;
            if may_change {
                self.waiting.push((self.committed, block, node.clone()));
            }
            update.finished.push(Final {
                index: self.committed,
                node,
                may_change,
            });
            self.committed += 1;
        }
        self.committed_end += parsed.finished_end;

        let unfinished = &parsed.blocks;
        if !unfinished.is_empty() {
            let with_open;
            let refs = if parsed.open_refs.is_empty() {
                &self.refs
            } else {
                with_open = {
                    let mut all = self.refs.clone();
                    all.extend(&parsed.open_refs);
                    all
                };
                &with_open
            };
            let mut builder = Builder::new(refs);
            let last = unfinished.len() - 1;
            for (i, block) in unfinished.iter().enumerate() {
                let open_end = !done && i == last;
                update.tail.push(builder.block(block, open_end));
            }
        }
        update
    }
}

/// The text without its last line when that line is still arriving and holds
/// nothing but block markers: until a word arrives, it could still become
/// a list item, a rule, a heading, a fence or a table row.
fn without_unsettled_line(text: &str) -> &str {
    if text.ends_with('\n') {
        return text;
    }
    let start = text.rfind('\n').map_or(0, |i| i + 1);
    let mut line = text[start..].trim_start_matches([' ', '\t']);
    // Container markers first: `>`, bullets and numbers followed by a space.
    loop {
        let b = line.as_bytes();
        let marker = match b.first() {
            Some(b'>') => 1,
            Some(b'-' | b'+' | b'*') if matches!(b.get(1), Some(b' ' | b'\t')) => 2,
            Some(c) if c.is_ascii_digit() => {
                let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
                match (b.get(digits), b.get(digits + 1)) {
                    (Some(b'.' | b')'), Some(b' ' | b'\t')) => digits + 2,
                    _ => break,
                }
            }
            _ => break,
        };
        line = line[marker..].trim_start_matches([' ', '\t']);
    }
    let markers_only = line
        .bytes()
        .all(|c| b"-=*_#~`|:+.) \t".contains(&c) || c.is_ascii_digit());
    let task_marker = ["[", "[ ", "[x", "[X", "[ ]", "[x]", "[X]"].contains(&line.trim_end());
    if markers_only || task_marker {
        &text[..start]
    } else {
        text
    }
}

/// The trees a renderer following the stream's updates ends up showing,
/// when `pieces` arrive one after the other: the model `render::StreamView`
/// keeps in the DOM, for the tests and the fuzzer (which hold it equal to
/// [`whole`]). `seen` gets each update's tail, the only trees built from
/// text that is not final yet.
pub fn follow(pieces: &[&str], mut seen: impl FnMut(&[Node])) -> Vec<Node> {
    let mut stream = Stream::default();
    let mut text = String::new();
    let mut shown: Vec<Node> = Vec::new();
    let mut finals = 0;
    let mut apply = |update: Update, shown: &mut Vec<Node>| {
        shown.truncate(finals);
        for (index, node) in update.rebuilt {
            shown[index] = node;
        }
        for block in update.finished {
            assert_eq!(block.index, shown.len(), "final blocks come in order");
            shown.push(block.node);
        }
        finals = shown.len();
        seen(&update.tail);
        shown.extend(update.tail);
    };
    for piece in pieces {
        text.push_str(piece);
        apply(stream.update(&text, false), &mut shown);
    }
    apply(stream.update(&text, true), &mut shown);
    shown
}

/// The trees of the whole `text`, parsed at once.
pub fn whole(text: &str) -> Vec<Node> {
    let parsed = blocks::parse(text, true);
    parsed
        .blocks
        .iter()
        .map(|b| super::tree::block(b, &parsed.refs))
        .collect()
}

#[cfg(test)]
mod tests {
    // The same tests run in headless Chromium: `cargo xtask test` (wasm-bindgen-test).
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn a_streamed_answer_ends_as_the_whole_text_would_show() {
        let text = "Intro with [docs][d].\n\n1. Install:\n\n   ```bash\n   npm i x\n   ```\n\n2. Configure it\n   - a\n     - b\n\n| Plan | Price |\n| :--- | ---: |\n| Pro | $10 |\n\n[d]: https://d.io\n";
        for cut in 0..=text.len() {
            if text.is_char_boundary(cut) {
                assert_eq!(
                    follow(&[&text[..cut], &text[cut..]], |_| {}),
                    whole(text),
                    "cut at {cut}"
                );
            }
        }
        let chars: Vec<String> = text.chars().map(String::from).collect();
        let pieces: Vec<&str> = chars.iter().map(String::as_str).collect();
        assert_eq!(follow(&pieces, |_| {}), whole(text));
    }

    #[test]
    fn nesting_past_the_limit_streams_as_it_parses_whole() {
        // Found by the fuzzer: the depth limit counted blocks the next line
        // was about to close, so a re-parsed tail nested differently.
        let text = format!("{}        code\n- >>>x\n   b", ">".repeat(22));
        for cut in 0..=text.len() {
            assert_eq!(
                follow(&[&text[..cut], &text[cut..]], |_| {}),
                whole(&text),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn a_definition_after_its_use_rebuilds_the_block_that_used_it() {
        let mut stream = Stream::default();
        let mut text = String::from("See [docs].\n\nMore.\n\n");
        let first = stream.update(&text, false);
        assert_eq!(first.finished.len(), 2);
        assert!(first.finished[0].may_change);
        assert!(!first.finished[1].may_change);
        text.push_str("[docs]: https://d.io\n\nEnd");
        let second = stream.update(&text, false);
        assert_eq!(second.rebuilt.len(), 1);
        assert_eq!(second.rebuilt[0].0, 0);
    }

    #[test]
    fn a_marker_still_being_typed_waits_for_its_word() {
        for unsettled in [
            "-", "- ", "1.", "12", "#", "```", "| :--", "> -", "- [", "- [x", "===",
        ] {
            let text = format!("Para\n{unsettled}");
            assert_eq!(without_unsettled_line(&text), "Para\n", "{unsettled:?}");
        }
        for settled in ["- a", "1. x", "# T", "word", "Para\n"] {
            let text = format!("Para\n{settled}");
            assert_eq!(without_unsettled_line(&text), text, "{settled:?}");
        }
    }
}
