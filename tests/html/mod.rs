//! The widget's element trees written as the reference implementations
//! (commonmark.js, cmark-gfm) write HTML, so they compare with the specs'
//! examples. Only the tests use it: the widget never makes HTML strings.
//!
//! The widget's own framing is written as the plain elements it stands for:
//! a code block's frame, label and copy button as `<pre><code class=…>`, a
//! table's scrolling frame as the table, a task's label as its content,
//! the heading levels as written (the widget shows them two levels down),
//! alignment classes as `align`, and a link's `target`/`rel` not at all.

// Each test binary uses what it needs of it.
#![allow(dead_code)]

use ringside_chat::markdown::tree::{Attr, Node, Tag};

/// HTML of a document's blocks.
pub(crate) fn render(nodes: &[Node]) -> String {
    let mut out = String::new();
    for node in nodes {
        write(node, &mut out);
    }
    out
}

/// What differs only in form: the widget shows every line break as one
/// (`<br />`), where the spec has a soft break for a single newline.
pub(crate) fn normalize(html: &str) -> String {
    html.replace("<br />\n", "\n")
}

/// `&amp;`, `&quot;`, `&lt;` and `&gt;` back to characters.
pub(crate) fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

/// A URL as commonmark.js writes it: percent-encoded but for the characters
/// a URL may hold, existing `%XX` kept.
fn encode_url(url: &str, out: &mut String) {
    let b = url.as_bytes();
    let mut encoded = String::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let keep = c.is_ascii_alphanumeric() || b";/?:@&=+$,-_.!~*'()#".contains(&c);
        if keep {
            encoded.push(c as char);
        } else if c == b'%'
            && b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
        {
            encoded.push('%');
        } else {
            encoded.push_str(&format!("%{c:02X}"));
        }
        i += 1;
    }
    escape(&encoded, out);
}

fn cr(out: &mut String) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

fn attr(attrs: &[(Attr, String)], name: Attr) -> Option<&str> {
    attrs
        .iter()
        .find(|(a, _)| *a == name)
        .map(|(_, v)| v.as_str())
}

fn text_of(node: &Node) -> String {
    match node {
        Node::Text(text) => text.clone(),
        Node::Element { children, .. } => children.iter().map(text_of).collect(),
    }
}

fn children(nodes: &[Node], out: &mut String) {
    for node in nodes {
        write(node, out);
    }
}

fn block_tag(name: &str, nodes: &[Node], out: &mut String) {
    cr(out);
    out.push_str(&format!("<{name}>"));
    cr(out);
    children(nodes, out);
    cr(out);
    out.push_str(&format!("</{name}>"));
    cr(out);
}

fn write(node: &Node, out: &mut String) {
    let Node::Element {
        tag,
        attrs,
        children: kids,
    } = node
    else {
        if let Node::Text(text) = node {
            escape(text, out);
        }
        return;
    };
    let class = attr(attrs, Attr::Class).unwrap_or("");
    match tag {
        Tag::P => {
            cr(out);
            out.push_str("<p>");
            children(kids, out);
            out.push_str("</p>");
            cr(out);
        }
        Tag::H(level) => {
            cr(out);
            out.push_str(&format!("<h{level}>"));
            children(kids, out);
            out.push_str(&format!("</h{level}>"));
            cr(out);
        }
        Tag::Div if class == "rsc-code" => {
            let lang = match &kids[0] {
                Node::Element { children: bar, .. } if bar.len() == 2 => text_of(&bar[0]),
                _ => String::new(),
            };
            let code = text_of(&kids[1]);
            cr(out);
            out.push_str("<pre><code");
            if !lang.is_empty() {
                out.push_str(" class=\"language-");
                escape(&lang, out);
                out.push('"');
            }
            out.push('>');
            escape(&code, out);
            out.push_str("</code></pre>");
            cr(out);
        }
        Tag::Div if class == "rsc-table" => children(kids, out),
        Tag::Table => block_tag("table", kids, out),
        Tag::Thead => block_tag("thead", kids, out),
        Tag::Tbody => block_tag("tbody", kids, out),
        Tag::Tr => block_tag("tr", kids, out),
        Tag::Th | Tag::Td => {
            let name = if *tag == Tag::Th { "th" } else { "td" };
            out.push_str(&format!("<{name}"));
            if let Some(align) = class.strip_prefix("rsc-") {
                out.push_str(&format!(" align=\"{align}\""));
            }
            out.push('>');
            children(kids, out);
            out.push_str(&format!("</{name}>"));
            cr(out);
        }
        Tag::Hr => {
            cr(out);
            out.push_str("<hr />");
            cr(out);
        }
        Tag::Blockquote => block_tag("blockquote", kids, out),
        Tag::Ul | Tag::Ol => {
            cr(out);
            match attr(attrs, Attr::Start) {
                Some(start) if *tag == Tag::Ol => out.push_str(&format!("<ol start=\"{start}\">")),
                _ => out.push_str(if *tag == Tag::Ol { "<ol>" } else { "<ul>" }),
            }
            cr(out);
            children(kids, out);
            cr(out);
            out.push_str(if *tag == Tag::Ol { "</ol>" } else { "</ul>" });
            cr(out);
        }
        Tag::Li => {
            out.push_str("<li>");
            children(kids, out);
            out.push_str("</li>");
            cr(out);
        }
        Tag::Label => children(kids, out),
        Tag::Input => {
            out.push_str("<input ");
            if attr(attrs, Attr::Checked).is_some() {
                out.push_str("checked=\"\" ");
            }
            out.push_str("disabled=\"\" type=\"checkbox\"> ");
        }
        Tag::Em => inline("em", kids, out),
        Tag::Strong => inline("strong", kids, out),
        Tag::Del => inline("del", kids, out),
        Tag::Code => inline("code", kids, out),
        Tag::Br => out.push_str("<br />\n"),
        Tag::A => {
            out.push_str("<a href=\"");
            encode_url(attr(attrs, Attr::Href).unwrap_or(""), out);
            out.push('"');
            if let Some(title) = attr(attrs, Attr::Title) {
                out.push_str(" title=\"");
                escape(title, out);
                out.push('"');
            }
            out.push('>');
            children(kids, out);
            out.push_str("</a>");
        }
        other => panic!("an answer's tree holds a <{}> out of place", other.name()),
    }
}

fn inline(name: &str, kids: &[Node], out: &mut String) {
    out.push_str(&format!("<{name}>"));
    children(kids, out);
    out.push_str(&format!("</{name}>"));
}
