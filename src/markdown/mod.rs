//! Markdown for streamed answers, as plain data: no DOM, no HTML strings.
//!
//! The dialect is CommonMark 0.31 with GitHub's extensions (tables,
//! strikethrough, task list items, extended autolinks), measured against
//! the specs' own examples (`tests/commonmark.rs`, `cargo xtask
//! conformance`). What the widget refuses on purpose: raw HTML is shown as
//! text, images show their description, and links go only to absolute
//! `http:`, `https:` and `mailto:` targets.
//!
//! It is our own parser, not pulldown-cmark: that crate was measured at
//! +57 KB brotli of wasm, most of it for what an answer never needs.
//!
//! # Layout
//! - [`blocks`]: the block structure (paragraphs, headings, code, lists,
//!   quotes, tables) by the spec's line-by-line strategy, and which blocks
//!   are finished, so a renderer builds each finished block once and
//!   re-parses only the unfinished tail as text streams in.
//! - [`inline`]: the text inside a block (emphasis by the delimiter-run
//!   algorithm, code spans, links, escapes and entities).
//! - [`links`]: link destinations, titles, labels and autolinks, shared by
//!   inline links and link reference definitions.
//! - [`entities`]: the named character references the parser knows.
//! - [`tree`]: blocks into an element tree drawn from a fixed allowlist of
//!   tags and attributes: model text can reach the page only as text nodes.
//! - [`stream`]: the streaming model the renderer follows: which trees are
//!   final, which are rebuilt when a reference definition arrives, and what
//!   the unfinished tail shows meanwhile (never raw syntax that will vanish).

pub mod blocks;
pub mod entities;
pub mod inline;
pub mod links;
pub mod stream;
pub mod tree;

pub use blocks::parse;

/// A block of a Markdown document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// Text, with inline formatting (its lines as written, joined by `\n`).
    Paragraph(String),
    /// `#` to `######`, or a setext underline.
    Heading {
        /// 1 to 6.
        level: u8,
        /// The heading's text.
        text: String,
    },
    /// A fenced or indented code block; `text` is shown exactly as written.
    Code {
        /// The info string's first word, e.g. `rust`.
        lang: String,
        /// The code, without its last line break.
        text: String,
    },
    /// A bulleted or numbered list.
    List {
        /// The first number of a numbered list; `None` for bullets.
        start: Option<u64>,
        /// Tight lists show their items' paragraphs without paragraph margins.
        tight: bool,
        /// The items.
        items: Vec<Item>,
    },
    /// `>` lines.
    Quote(Vec<Block>),
    /// `---`, `***` or `___`.
    Rule,
    /// A GitHub table.
    Table {
        /// Each column's alignment, from the delimiter row.
        align: Vec<Align>,
        /// The header row's cells (inline text).
        head: Vec<String>,
        /// The body rows, each with as many cells as the header.
        rows: Vec<Vec<String>>,
    },
}

/// An item of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// `Some(done)` for a task list item (`- [ ]` or `- [x]`).
    pub task: Option<bool>,
    /// The item's blocks.
    pub blocks: Vec<Block>,
}

/// A table column's alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// No colon in the delimiter row.
    None,
    /// `:--`
    Left,
    /// `:-:`
    Center,
    /// `--:`
    Right,
}

/// Where a link reference definition points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The destination, escapes and entities resolved (checked later).
    pub dest: String,
    /// The title, if any.
    pub title: Option<String>,
}

/// Link reference definitions, by normalized label; the first one wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refs(Vec<(String, Target)>);

impl Refs {
    /// Adds a definition unless its label is defined already.
    pub fn define(&mut self, label: String, target: Target) {
        if let Err(at) = self.0.binary_search_by(|(l, _)| l.as_str().cmp(&label)) {
            self.0.insert(at, (label, target));
        }
    }

    /// The definition of a normalized label.
    pub fn get(&self, label: &str) -> Option<&Target> {
        self.0
            .binary_search_by(|(l, _)| l.as_str().cmp(label))
            .ok()
            .map(|at| &self.0[at].1)
    }

    /// How many labels are defined.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no label is defined.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds every definition of `other` (earlier ones win).
    pub fn extend(&mut self, other: &Refs) {
        for (label, target) in &other.0 {
            self.define(label.clone(), target.clone());
        }
    }
}

/// Blocks parsed from a text, and how much of the text they settle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The blocks, in order.
    pub blocks: Vec<Block>,
    /// How many leading blocks are finished: nothing more can change them.
    pub finished: usize,
    /// The byte offset where the unfinished blocks start: parsing the text
    /// from here alone gives the unfinished blocks again.
    pub finished_end: usize,
    /// The link reference definitions of the finished part.
    pub refs: Refs,
    /// Those of the unfinished part (they may still change).
    pub open_refs: Refs,
}
