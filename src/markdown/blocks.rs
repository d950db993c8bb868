//! The block structure, by the line-by-line strategy of the CommonMark
//! spec's appendix: a stack of open blocks; each line first continues the
//! open containers it can (a quote's `>`, an item's indentation), then may
//! open new blocks, and what is left goes to the innermost block that takes
//! lines (a paragraph, code, a table), or lazily continues a paragraph.
//!
//! A block closes when a line does not continue it, and a closed block never
//! changes again: after each complete line, every top-level block closed so
//! far is *finished*, and the text from the start of the first open one can
//! be parsed again on its own to the same result. That is what lets the
//! renderer build finished blocks once and re-parse only the tail.

use super::links::{self, RefDef};
use super::{Align, Block, Item, Parsed, Refs};

/// Containers nested deeper than this are text: the element tree and the
/// DOM are built recursively, and a hostile answer must not exhaust the stack.
const MAX_NESTING: usize = 24;
/// A tab stop, for indentation.
const TAB: usize = 4;

/// Parses `text` into blocks. `done` says the text is complete (the stream
/// ended), which finishes every block. While it is not done, a last
/// paragraph line that may be a table's header row waits for the next line
/// (so a table never flashes as pipes).
pub fn parse(text: &str, done: bool) -> Parsed {
    let mut parser = Parser {
        stack: vec![Open::new(Kind::Document, 0, 0)],
        defs: Vec::new(),
        line_no: 0,
        line_start: 0,
        line_complete: true,
        finished: 0,
        finished_end: 0,
        finished_defs: 0,
    };
    let mut start = 0;
    while start < text.len() {
        let (end, next) = match text[start..].find('\n') {
            Some(i) => (start + i, start + i + 1),
            None => (text.len(), text.len()),
        };
        let line = &text[start..end];
        // A line still arriving has no line ending yet: code shows none.
        parser.line_complete = next > end || done;
        parser.line(line.strip_suffix('\r').unwrap_or(line), start);
        if next > end {
            parser.settle(next);
        }
        start = next;
    }
    parser.finish(text, done)
}

/// A block still open, as the parser holds it.
#[derive(Debug)]
enum Kind {
    Document,
    Quote,
    List {
        /// The bullet (`-`, `+`, `*`) or the number's delimiter (`.`, `)`).
        mark: u8,
        ordered: bool,
        start: u64,
    },
    Item {
        /// The column where the item's content starts.
        content: usize,
    },
    Paragraph,
    Fenced {
        mark: u8,
        len: usize,
        indent: usize,
        lang: String,
    },
    Indented,
    Table {
        align: Vec<Align>,
        head: Vec<String>,
        rows: Vec<Vec<String>>,
    },
}

#[derive(Debug)]
struct Open {
    kind: Kind,
    /// Closed child blocks, and whether each ends with a blank line.
    blocks: Vec<(Block, bool)>,
    /// A list's closed items: whether each ends with a blank line, and
    /// whether a blank line separates two of its blocks.
    items: Vec<(Item, bool, bool)>,
    /// A paragraph's or code block's lines.
    text: String,
    /// Where the paragraph's last line starts in `text`.
    last_line: usize,
    /// The byte offset of the line the block starts on: parsing can
    /// resume there.
    start: usize,
    /// How many top-level blocks precede that line.
    blocks_before: usize,
    /// The line number it starts on.
    line_no: usize,
    /// How many reference definitions existed when it opened.
    defs_before: usize,
    last_line_blank: bool,
}

impl Open {
    fn new(kind: Kind, start: usize, line_no: usize) -> Self {
        Open {
            kind,
            blocks: Vec::new(),
            items: Vec::new(),
            text: String::new(),
            last_line: 0,
            start,
            blocks_before: 0,
            line_no,
            defs_before: 0,
            last_line_blank: false,
        }
    }

    fn is_container(&self) -> bool {
        matches!(self.kind, Kind::Document | Kind::Quote | Kind::Item { .. })
    }

    fn has_children(&self) -> bool {
        !self.blocks.is_empty() || !self.items.is_empty()
    }
}

/// Where the parser is in the current line, in bytes and in columns (tabs
/// count to the next multiple of four, and may be consumed partly).
struct Cursor<'a> {
    line: &'a str,
    offset: usize,
    column: usize,
    partial_tab: bool,
    next_nonspace: usize,
    next_nonspace_column: usize,
    indent: usize,
    blank: bool,
}

impl<'a> Cursor<'a> {
    fn peek(&self, at: usize) -> u8 {
        self.line.as_bytes().get(at).copied().unwrap_or(0)
    }

    fn find_next_nonspace(&mut self) {
        let b = self.line.as_bytes();
        let (mut i, mut column) = (self.offset, self.column);
        while let Some(&c) = b.get(i) {
            match c {
                b' ' => column += 1,
                b'\t' => column += TAB - column % TAB,
                _ => break,
            }
            i += 1;
        }
        self.blank = i >= b.len();
        self.next_nonspace = i;
        self.next_nonspace_column = column;
        self.indent = column - self.column;
    }

    fn advance_next_nonspace(&mut self) {
        self.offset = self.next_nonspace;
        self.column = self.next_nonspace_column;
        self.partial_tab = false;
    }

    /// Moves `count` characters on, or `count` columns when `columns` (a tab
    /// may then be consumed partly).
    fn advance(&mut self, mut count: usize, columns: bool) {
        let b = self.line.as_bytes();
        while count > 0 {
            let Some(&c) = b.get(self.offset) else { break };
            if c == b'\t' {
                let to_tab = TAB - self.column % TAB;
                if columns {
                    self.partial_tab = to_tab > count;
                    let step = to_tab.min(count);
                    self.column += step;
                    if !self.partial_tab {
                        self.offset += 1;
                    }
                    count -= step;
                } else {
                    self.partial_tab = false;
                    self.column += to_tab;
                    self.offset += 1;
                    count -= 1;
                }
            } else {
                self.partial_tab = false;
                self.offset += 1;
                self.column += 1;
                count -= 1;
            }
        }
    }

    /// The line from the next non-space character.
    fn rest(&self) -> &'a str {
        &self.line[self.next_nonspace..]
    }
}

struct Parser {
    /// The open blocks, the document first.
    stack: Vec<Open>,
    /// Link reference definitions, in the order they were closed.
    defs: Vec<RefDef>,
    line_no: usize,
    /// Where the current line starts in the document.
    line_start: usize,
    /// Whether it ends with a line ending (or the text is complete).
    line_complete: bool,
    finished: usize,
    finished_end: usize,
    finished_defs: usize,
}

/// What a line start opened.
enum Started {
    Nothing,
    /// A container: more blocks may start inside it on the same line.
    Container,
    /// Code whose first line is the rest of this line.
    Leaf,
    /// A block that took the whole line (a heading, a fence, a rule).
    Line,
}

impl Parser {
    fn tip(&self) -> &Open {
        self.stack.last().expect("the document is always open")
    }

    fn tip_mut(&mut self) -> &mut Open {
        self.stack.last_mut().expect("the document is always open")
    }

    /// After a complete line: what is closed at the top level is finished.
    fn settle(&mut self, line_end: usize) {
        match self.stack.get(1) {
            None => {
                self.finished = self.stack[0].blocks.len();
                self.finished_end = line_end;
                self.finished_defs = self.defs.len();
            }
            Some(open) => {
                self.finished = open.blocks_before;
                self.finished_end = open.start;
                self.finished_defs = open.defs_before;
            }
        }
    }

    fn line(&mut self, line: &str, line_start: usize) {
        self.line_no += 1;
        self.line_start = line_start;
        let mut c = Cursor {
            line,
            offset: 0,
            column: 0,
            partial_tab: false,
            next_nonspace: 0,
            next_nonspace_column: 0,
            indent: 0,
            blank: false,
        };

        // 1. Which open blocks this line continues.
        let mut matched = 1;
        while matched < self.stack.len() {
            c.find_next_nonspace();
            match self.continues(matched, &mut c) {
                Some(true) => matched += 1,
                Some(false) => break,
                // A closing fence: the line is done.
                None => return,
            }
        }
        let mut container = matched - 1;
        let mut all_closed = container == self.stack.len() - 1;

        // 2. New blocks, unless the container takes the line as code.
        let mut started = Started::Nothing;
        if !matches!(
            self.stack[container].kind,
            Kind::Fenced { .. } | Kind::Indented
        ) {
            loop {
                c.find_next_nonspace();
                let first = c.peek(c.next_nonspace);
                let maybe_special =
                    c.indent >= TAB || first.is_ascii_digit() || b"#`~*+_=>-|:".contains(&first);
                started = if maybe_special {
                    self.start(container, &mut c, &mut all_closed)
                } else {
                    Started::Nothing
                };
                match started {
                    Started::Container => container = self.stack.len() - 1,
                    Started::Nothing => {
                        c.advance_next_nonspace();
                        break;
                    }
                    Started::Leaf | Started::Line => {
                        container = self.stack.len() - 1;
                        break;
                    }
                }
            }
        }

        // 3. The rest of the line: a lazy continuation, or text for the tip.
        if !all_closed && !c.blank && matches!(self.tip().kind, Kind::Paragraph) {
            self.add_line(&c);
            return;
        }
        self.close_to(container);
        let parent = &mut self.stack[container];
        if c.blank {
            if let Some(last) = parent.blocks.last_mut() {
                last.1 = true;
            } else if let Some(last) = parent.items.last_mut() {
                last.1 = true;
            }
        }
        let last_line_blank = c.blank
            && !match parent.kind {
                Kind::Quote | Kind::Fenced { .. } => true,
                Kind::Item { .. } => !parent.has_children() && parent.line_no == self.line_no,
                _ => false,
            };
        for open in &mut self.stack {
            open.last_line_blank = last_line_blank;
        }
        if matches!(started, Started::Line) {
            return;
        }
        match self.tip().kind {
            Kind::Paragraph | Kind::Fenced { .. } | Kind::Indented => self.add_line(&c),
            Kind::Table { .. } if !c.blank => {
                let cells = row(&line[c.offset..]);
                if let Kind::Table { head, rows, .. } = &mut self.tip_mut().kind {
                    rows.push(fit(cells, head.len()));
                }
            }
            _ if !c.blank => {
                self.add_child(Kind::Paragraph);
                c.advance_next_nonspace();
                self.add_line(&c);
            }
            _ => {}
        }
    }

    /// Whether the line continues the open block at `at`: `Some(true)` yes,
    /// `Some(false)` no, `None` when it closed a fence (nothing more to do).
    fn continues(&mut self, at: usize, c: &mut Cursor<'_>) -> Option<bool> {
        let open = &self.stack[at];
        match &open.kind {
            Kind::Document | Kind::List { .. } => {}
            Kind::Quote => {
                if c.indent >= TAB || c.peek(c.next_nonspace) != b'>' {
                    return Some(false);
                }
                c.advance_next_nonspace();
                c.advance(1, false);
                if matches!(c.peek(c.offset), b' ' | b'\t') {
                    c.advance(1, true);
                }
            }
            Kind::Item { content } => {
                if c.blank {
                    // An item may start with one blank line, not two.
                    if !open.has_children() && at + 1 == self.stack.len() {
                        return Some(false);
                    }
                    c.advance_next_nonspace();
                } else if c.indent >= *content {
                    c.advance(*content, true);
                } else {
                    return Some(false);
                }
            }
            Kind::Fenced {
                mark, len, indent, ..
            } => {
                let rest = c.rest().as_bytes();
                let run = rest.iter().take_while(|&&b| b == *mark).count();
                if c.indent < TAB
                    && run >= *len
                    && rest[run..].iter().all(|&b| b == b' ' || b == b'\t')
                {
                    self.close_to(at - 1);
                    return None;
                }
                let mut skip = *indent;
                while skip > 0 && matches!(c.peek(c.offset), b' ' | b'\t') {
                    c.advance(1, true);
                    skip -= 1;
                }
            }
            Kind::Indented => {
                if c.indent >= TAB {
                    c.advance(TAB, true);
                } else if c.blank {
                    c.advance_next_nonspace();
                } else {
                    return Some(false);
                }
            }
            Kind::Paragraph | Kind::Table { .. } => return Some(!c.blank),
        }
        Some(true)
    }

    /// Tries each kind of block start at the cursor, in the spec's order.
    fn start(&mut self, container: usize, c: &mut Cursor<'_>, all_closed: &mut bool) -> Started {
        let rest = c.rest();
        let b = rest.as_bytes();
        let first = b.first().copied().unwrap_or(0);
        let in_paragraph = matches!(self.stack[container].kind, Kind::Paragraph);
        // The depth of what may open here, not of the open blocks this line
        // may yet close: streaming re-parses the tail from a fresh stack.
        let deep = container + 1 >= MAX_NESTING;

        if c.indent >= TAB {
            // Indented code, which cannot interrupt a paragraph.
            if c.blank || matches!(self.tip().kind, Kind::Paragraph) {
                return Started::Nothing;
            }
            c.advance(TAB, true);
            self.close_unmatched(container, all_closed);
            self.add_child(Kind::Indented);
            return Started::Leaf;
        }
        if first == b'>' && !deep {
            c.advance_next_nonspace();
            c.advance(1, false);
            if matches!(c.peek(c.offset), b' ' | b'\t') {
                c.advance(1, true);
            }
            self.close_unmatched(container, all_closed);
            self.add_child(Kind::Quote);
            return Started::Container;
        }
        if first == b'#' {
            let level = b.iter().take_while(|&&x| x == b'#').count();
            if level <= 6 && matches!(b.get(level), None | Some(b' ' | b'\t')) {
                self.close_unmatched(container, all_closed);
                let text = heading_text(&rest[level..]).to_string();
                let level = level as u8;
                self.add_closed(Block::Heading { level, text });
                return Started::Line;
            }
        }
        if first == b'`' || first == b'~' {
            let len = b.iter().take_while(|&&x| x == first).count();
            let info = &rest[len..];
            if len >= 3 && !(first == b'`' && info.contains('`')) {
                self.close_unmatched(container, all_closed);
                let info = links::unescape(info.trim_matches([' ', '\t']));
                let lang = info.split([' ', '\t']).next().unwrap_or("").to_string();
                let kind = Kind::Fenced {
                    mark: first,
                    len,
                    indent: c.indent,
                    lang,
                };
                self.add_child(kind);
                return Started::Line;
            }
        }
        if in_paragraph && (first == b'=' || first == b'-') {
            let run = b.iter().take_while(|&&x| x == first).count();
            if b[run..].iter().all(|&x| x == b' ' || x == b'\t') {
                self.close_unmatched(container, all_closed);
                let paragraph = std::mem::take(&mut self.tip_mut().text);
                match self.take_defs(&paragraph) {
                    Some(text) => {
                        let level = if first == b'=' { 1 } else { 2 };
                        self.stack.pop();
                        self.add_closed(Block::Heading { level, text });
                        return Started::Line;
                    }
                    // Only definitions: the line is no underline.
                    None => self.tip_mut().last_line = 0,
                }
            }
        }
        if is_thematic_break(b) {
            self.close_unmatched(container, all_closed);
            self.add_closed(Block::Rule);
            return Started::Line;
        }
        if in_paragraph
            && rest.contains(['|', '-'])
            && let Some(align) = delimiter_row(rest)
        {
            let paragraph = &self.stack[container];
            let header = &paragraph.text[paragraph.last_line..];
            let head = row(header.trim_end_matches('\n'));
            if head.len() == align.len() && (rest.contains('|') || header.contains('|')) {
                self.close_unmatched(container, all_closed);
                self.start_table(align, head);
                return Started::Line;
            }
        }
        if !deep && let Some((list, item)) = list_marker(c, in_paragraph) {
            self.close_unmatched(container, all_closed);
            let same_list = match (&self.tip().kind, &list) {
                (
                    Kind::List { mark, ordered, .. },
                    Kind::List {
                        mark: new_mark,
                        ordered: new_ordered,
                        ..
                    },
                ) => mark == new_mark && ordered == new_ordered,
                _ => false,
            };
            if !same_list {
                self.add_child(list);
            }
            self.add_child(item);
            return Started::Container;
        }
        Started::Nothing
    }

    /// A table replaces the paragraph whose last line is its header row;
    /// the paragraph's earlier lines stay a paragraph. Parsing resumes where
    /// the paragraph started: the header line alone might read differently
    /// (indented four spaces, it would be code).
    fn start_table(&mut self, align: Vec<Align>, head: Vec<String>) {
        let paragraph = self.tip_mut();
        let resume = (
            paragraph.start,
            paragraph.blocks_before,
            paragraph.defs_before,
        );
        let at = paragraph.last_line;
        paragraph.text.truncate(at);
        if paragraph.text.is_empty() {
            self.stack.pop();
        } else {
            self.close_tip();
        }
        let table = Kind::Table {
            align,
            head,
            rows: Vec::new(),
        };
        self.add_child(table);
        let table = self.tip_mut();
        (table.start, table.blocks_before, table.defs_before) = resume;
    }

    /// Closes what the line did not continue, once a new block starts.
    fn close_unmatched(&mut self, container: usize, all_closed: &mut bool) {
        if !*all_closed {
            self.close_to(container);
            *all_closed = true;
        }
    }

    /// Closes every open block above `keep`.
    fn close_to(&mut self, keep: usize) {
        while self.stack.len() > keep + 1 {
            self.close_tip();
        }
    }

    /// Opens a block as a child of the tip, closing tips that cannot hold it.
    fn add_child(&mut self, kind: Kind) {
        let is_item = matches!(kind, Kind::Item { .. });
        loop {
            let tip = self.tip();
            let fits = if is_item {
                matches!(tip.kind, Kind::List { .. })
            } else {
                tip.is_container()
            };
            if fits {
                break;
            }
            self.close_tip();
        }
        let mut open = Open::new(kind, self.line_start, self.line_no);
        open.defs_before = self.defs.len();
        open.blocks_before = self.stack[0].blocks.len();
        self.stack.push(open);
    }

    /// Adds a block that is complete in one line (a heading, a rule).
    fn add_closed(&mut self, block: Block) {
        while !self.tip().is_container() {
            self.close_tip();
        }
        self.tip_mut().blocks.push((block, false));
    }

    /// Adds the rest of the line to the tip's text.
    fn add_line(&mut self, c: &Cursor<'_>) {
        let mut offset = c.offset;
        let complete = self.line_complete;
        let tip = self.tip_mut();
        tip.last_line = tip.text.len();
        if c.partial_tab {
            offset += 1;
            tip.text
                .extend(std::iter::repeat_n(' ', TAB - c.column % TAB));
        }
        tip.text.push_str(&c.line[offset..]);
        if complete {
            tip.text.push('\n');
        }
    }

    /// Takes the link reference definitions at the start of a paragraph's
    /// text; the text left, if any.
    fn take_defs(&mut self, text: &str) -> Option<String> {
        let mut rest = text;
        while rest.starts_with('[') {
            let Some((used, def)) = links::ref_def(rest) else {
                break;
            };
            self.defs.push(def);
            rest = &rest[used..];
        }
        let rest = rest.trim_end_matches(['\n', ' ', '\t']);
        (!rest.is_empty()).then(|| rest.to_string())
    }

    /// Closes the tip, adding it to its parent.
    fn close_tip(&mut self) {
        let open = self.stack.pop().expect("the document is never closed");
        let mut ends_blank = open.last_line_blank;
        let block = match open.kind {
            Kind::Document => return,
            Kind::Paragraph => match self.take_defs(&open.text) {
                Some(text) => Block::Paragraph(text),
                None => return,
            },
            Kind::Fenced { lang, .. } => Block::Code {
                lang,
                text: open.text,
            },
            Kind::Indented => {
                let mut text = open.text;
                let content = text.trim_end_matches([' ', '\n']).len();
                let end = text[content..]
                    .find('\n')
                    .map_or(text.len(), |i| content + i + 1);
                text.truncate(end);
                Block::Code {
                    lang: String::new(),
                    text,
                }
            }
            Kind::Quote => Block::Quote(open.blocks.into_iter().map(|(b, _)| b).collect()),
            Kind::Table { align, head, rows } => Block::Table { align, head, rows },
            Kind::List { ordered, start, .. } => {
                let count = open.items.len();
                let loose = open
                    .items
                    .iter()
                    .enumerate()
                    .any(|(i, &(_, item_blank, gap))| gap || (item_blank && i + 1 < count));
                ends_blank |= open.items.last().is_some_and(|item| item.1);
                Block::List {
                    start: ordered.then_some(start),
                    tight: !loose,
                    items: open.items.into_iter().map(|(item, _, _)| item).collect(),
                }
            }
            Kind::Item { .. } => {
                let count = open.blocks.len();
                let gap = open.blocks[..count.saturating_sub(1)]
                    .iter()
                    .any(|&(_, blank)| blank);
                ends_blank |= open.blocks.last().is_some_and(|block| block.1);
                let mut blocks: Vec<Block> = open.blocks.into_iter().map(|(b, _)| b).collect();
                let task = task_marker(&mut blocks);
                self.tip_mut()
                    .items
                    .push((Item { task, blocks }, ends_blank, gap));
                return;
            }
        };
        self.tip_mut().blocks.push((block, ends_blank));
    }

    fn finish(mut self, text: &str, done: bool) -> Parsed {
        if !done {
            // A last line with a pipe may be a table's header row: until the
            // next line says, it waits rather than flash as text.
            let tip = self.tip_mut();
            if matches!(tip.kind, Kind::Paragraph) && tip.text[tip.last_line..].contains('|') {
                let at = tip.last_line;
                tip.text.truncate(at);
                if tip.text.is_empty() {
                    self.stack.pop();
                }
            }
        }
        while self.stack.len() > 1 {
            self.close_tip();
        }
        let finished_defs = if done {
            self.defs.len()
        } else {
            self.finished_defs
        };
        let mut refs = Refs::default();
        let mut open_refs = Refs::default();
        for (i, def) in self.defs.into_iter().enumerate() {
            let into = if i < finished_defs {
                &mut refs
            } else {
                &mut open_refs
            };
            into.define(def.label, def.target);
        }
        let document = self.stack.pop().expect("the document");
        let blocks: Vec<Block> = document.blocks.into_iter().map(|(b, _)| b).collect();
        let (finished, finished_end) = if done {
            (blocks.len(), text.len())
        } else {
            (self.finished, self.finished_end)
        };
        Parsed {
            blocks,
            finished,
            finished_end,
            refs,
            open_refs,
        }
    }
}

/// A heading's text: the line after its `#`s, without a closing sequence.
fn heading_text(line: &str) -> &str {
    let text = line.trim_matches([' ', '\t']);
    let without = text.trim_end_matches('#');
    if without.is_empty() {
        return "";
    }
    if without.len() < text.len() && without.ends_with([' ', '\t']) {
        return without.trim_end_matches([' ', '\t']);
    }
    text
}

fn is_thematic_break(b: &[u8]) -> bool {
    let Some(&mark) = b.first() else { return false };
    matches!(mark, b'*' | b'-' | b'_')
        && b.iter().filter(|&&x| x == mark).count() >= 3
        && b.iter().all(|&x| x == mark || x == b' ' || x == b'\t')
}

/// A list item's marker at the cursor: the list it belongs to, and the item.
/// Moves the cursor to the item's content.
fn list_marker(c: &mut Cursor<'_>, in_paragraph: bool) -> Option<(Kind, Kind)> {
    let b = c.rest().as_bytes();
    let first = *b.first()?;
    let (kind, len) = if matches!(first, b'-' | b'+' | b'*') {
        (
            Kind::List {
                mark: first,
                ordered: false,
                start: 0,
            },
            1,
        )
    } else {
        let digits = b.iter().take_while(|x| x.is_ascii_digit()).count();
        let mark = *b.get(digits)?;
        if !(1..=9).contains(&digits) || !matches!(mark, b'.' | b')') {
            return None;
        }
        let start: u64 = c.rest()[..digits].parse().ok()?;
        if in_paragraph && start != 1 {
            return None;
        }
        (
            Kind::List {
                mark,
                ordered: true,
                start,
            },
            digits + 1,
        )
    };
    if !matches!(b.get(len), None | Some(b' ' | b'\t')) {
        return None;
    }
    if in_paragraph && b[len..].iter().all(|&x| x == b' ' || x == b'\t') {
        return None;
    }
    let marker_offset = c.indent;
    c.advance_next_nonspace();
    c.advance(len, true);
    let (spaces_column, spaces_offset) = (c.column, c.offset);
    loop {
        c.advance(1, true);
        if !(c.column - spaces_column < 5 && matches!(c.peek(c.offset), b' ' | b'\t')) {
            break;
        }
    }
    let blank_item = c.offset >= c.line.len();
    let spaces = c.column - spaces_column;
    let padding = if !(1..5).contains(&spaces) || blank_item {
        c.column = spaces_column;
        c.offset = spaces_offset;
        c.partial_tab = false;
        if matches!(c.peek(c.offset), b' ' | b'\t') {
            c.advance(1, true);
        }
        len + 1
    } else {
        len + spaces
    };
    Some((
        kind,
        Kind::Item {
            content: marker_offset + padding,
        },
    ))
}
/// Splits a table row into its cells, trimmed; `\|` is a pipe inside a cell.
fn row(line: &str) -> Vec<String> {
    let line = line.trim_matches([' ', '\t']);
    let line = line.strip_prefix('|').unwrap_or(line);
    let b = line.as_bytes();
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut from = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if b.get(i + 1) == Some(&b'|') => {
                cell.push_str(&line[from..i]);
                from = i + 1;
                i += 2;
            }
            b'\\' if b.get(i + 1).is_some_and(u8::is_ascii) => i += 2,
            b'|' => {
                cell.push_str(&line[from..i]);
                cells.push(cell.trim_matches([' ', '\t']).to_string());
                cell.clear();
                from = i + 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    // A pipe at the very end closes the last cell rather than open one.
    if from < b.len() {
        cell.push_str(&line[from..]);
        cells.push(cell.trim_matches([' ', '\t']).to_string());
    }
    cells
}

/// A row's cells, as many as the header has.
fn fit(mut cells: Vec<String>, width: usize) -> Vec<String> {
    cells.resize(width, String::new());
    cells
}

/// A table's delimiter row (`| :-- | --: |`): each column's alignment.
fn delimiter_row(line: &str) -> Option<Vec<Align>> {
    let cells = row(line);
    if cells.is_empty() {
        return None;
    }
    cells
        .iter()
        .map(|cell| {
            let b = cell.as_bytes();
            let left = b.first() == Some(&b':');
            let right = b.len() > 1 && b.last() == Some(&b':');
            let dashes = &b[usize::from(left)..b.len() - usize::from(right)];
            if dashes.is_empty() || dashes.iter().any(|&x| x != b'-') {
                return None;
            }
            Some(match (left, right) {
                (true, true) => Align::Center,
                (true, false) => Align::Left,
                (false, true) => Align::Right,
                (false, false) => Align::None,
            })
        })
        .collect()
}

/// A task list item's marker (`[ ]`, `[x]`) at the start of its first
/// paragraph: removed from the text, and its state.
fn task_marker(blocks: &mut [Block]) -> Option<bool> {
    let Some(Block::Paragraph(text)) = blocks.first_mut() else {
        return None;
    };
    let b = text.as_bytes();
    if b.len() < 4 || b[0] != b'[' || b[2] != b']' || !matches!(b[3], b' ' | b'\t' | b'\n') {
        return None;
    }
    let done = match b[1] {
        b' ' => false,
        b'x' | b'X' => true,
        _ => return None,
    };
    let rest = text[4..].trim_start_matches([' ', '\t']);
    if rest.is_empty() {
        return None;
    }
    *text = rest.to_string();
    Some(done)
}
