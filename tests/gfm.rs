//! Issue #12: GitHub's extensions, by the examples of the GFM spec (0.29, as
//! cmark-gfm's `test/spec.txt` has them): tables, strikethrough, task list
//! items and extended autolinks. Each must pass, but where the safety policy
//! refuses a link target (`ftp:`, `xmpp:`), which keeps its text.
#![cfg(not(target_arch = "wasm32"))]

mod html;

use ringside_chat::markdown::stream::whole;

fn render(text: &str) -> String {
    html::normalize(&html::render(&whole(text)))
}

#[track_caller]
fn example(markdown: &str, html: &str) {
    assert_eq!(render(markdown), html::normalize(html), "{markdown:?}");
}

const TABLE_FOO_BAR: &str = "<table>\n<thead>\n<tr>\n<th>abc</th>\n<th>def</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td>bar</td>\n<td>baz</td>\n</tr>\n";

#[test]
fn tables() {
    example(
        "| foo | bar |\n| --- | --- |\n| baz | bim |\n",
        "<table>\n<thead>\n<tr>\n<th>foo</th>\n<th>bar</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td>baz</td>\n<td>bim</td>\n</tr>\n</tbody>\n</table>\n",
    );
    example(
        "| abc | defghi |\n:-: | -----------:\nbar | baz\n",
        "<table>\n<thead>\n<tr>\n<th align=\"center\">abc</th>\n<th align=\"right\">defghi</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td align=\"center\">bar</td>\n<td align=\"right\">baz</td>\n</tr>\n</tbody>\n</table>\n",
    );
    example(
        "| f\\|oo  |\n| ------ |\n| b `\\|` az |\n| b **\\|** im |\n",
        "<table>\n<thead>\n<tr>\n<th>f|oo</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td>b <code>|</code> az</td>\n</tr>\n<tr>\n<td>b <strong>|</strong> im</td>\n</tr>\n</tbody>\n</table>\n",
    );
    example(
        "| abc | def |\n| --- | --- |\n| bar | baz |\n> bar\n",
        &format!("{TABLE_FOO_BAR}</tbody>\n</table>\n<blockquote>\n<p>bar</p>\n</blockquote>\n"),
    );
    example(
        "| abc | def |\n| --- | --- |\n| bar | baz |\nbar\n\nbar\n",
        &format!(
            "{TABLE_FOO_BAR}<tr>\n<td>bar</td>\n<td></td>\n</tr>\n</tbody>\n</table>\n<p>bar</p>\n"
        ),
    );
    example(
        "| abc | def |\n| --- | --- |\n| bar | baz |\nbar\n===\n",
        &format!(
            "{TABLE_FOO_BAR}<tr>\n<td>bar</td>\n<td></td>\n</tr>\n<tr>\n<td>===</td>\n<td></td>\n</tr>\n</tbody>\n</table>\n"
        ),
    );
    example(
        "| abc | def |\n| --- |\n| bar |\n",
        "<p>| abc | def |\n| --- |\n| bar |</p>\n",
    );
    example(
        "| abc | def |\n| --- | --- |\n| bar |\n| bar | baz | boo |\n",
        "<table>\n<thead>\n<tr>\n<th>abc</th>\n<th>def</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td>bar</td>\n<td></td>\n</tr>\n<tr>\n<td>bar</td>\n<td>baz</td>\n</tr>\n</tbody>\n</table>\n",
    );
    example(
        "| abc | def |\n| --- | --- |\n",
        "<table>\n<thead>\n<tr>\n<th>abc</th>\n<th>def</th>\n</tr>\n</thead>\n</table>\n",
    );
}

#[test]
fn strikethrough() {
    example(
        "~~Hi~~ Hello, ~there~ world!\n",
        "<p><del>Hi</del> Hello, <del>there</del> world!</p>\n",
    );
    example(
        "This ~~has a\n\nnew paragraph~~.\n",
        "<p>This ~~has a</p>\n<p>new paragraph~~.</p>\n",
    );
    example(
        "This will ~~~not~~~ strike.\n",
        "<p>This will ~~~not~~~ strike.</p>\n",
    );
}

#[test]
fn task_list_items() {
    example(
        "- [ ] foo\n- [x] bar\n",
        "<ul>\n<li><input disabled=\"\" type=\"checkbox\"> foo</li>\n<li><input checked=\"\" disabled=\"\" type=\"checkbox\"> bar</li>\n</ul>\n",
    );
    example(
        "- [x] foo\n  - [ ] bar\n  - [x] baz\n- [ ] bim\n",
        "<ul>\n<li><input checked=\"\" disabled=\"\" type=\"checkbox\"> foo\n<ul>\n<li><input disabled=\"\" type=\"checkbox\"> bar</li>\n<li><input checked=\"\" disabled=\"\" type=\"checkbox\"> baz</li>\n</ul>\n</li>\n<li><input disabled=\"\" type=\"checkbox\"> bim</li>\n</ul>\n",
    );
}

#[test]
fn extended_autolinks() {
    example(
        "www.commonmark.org\n",
        "<p><a href=\"http://www.commonmark.org\">www.commonmark.org</a></p>\n",
    );
    example(
        "Visit www.commonmark.org/help for more information.\n",
        "<p>Visit <a href=\"http://www.commonmark.org/help\">www.commonmark.org/help</a> for more information.</p>\n",
    );
    example(
        "Visit www.commonmark.org.\n\nVisit www.commonmark.org/a.b.\n",
        "<p>Visit <a href=\"http://www.commonmark.org\">www.commonmark.org</a>.</p>\n<p>Visit <a href=\"http://www.commonmark.org/a.b\">www.commonmark.org/a.b</a>.</p>\n",
    );
    example(
        "www.google.com/search?q=Markup+(business)\n\nwww.google.com/search?q=Markup+(business)))\n\n(www.google.com/search?q=Markup+(business))\n\n(www.google.com/search?q=Markup+(business)\n",
        "<p><a href=\"http://www.google.com/search?q=Markup+(business)\">www.google.com/search?q=Markup+(business)</a></p>\n<p><a href=\"http://www.google.com/search?q=Markup+(business)\">www.google.com/search?q=Markup+(business)</a>))</p>\n<p>(<a href=\"http://www.google.com/search?q=Markup+(business)\">www.google.com/search?q=Markup+(business)</a>)</p>\n<p>(<a href=\"http://www.google.com/search?q=Markup+(business)\">www.google.com/search?q=Markup+(business)</a></p>\n",
    );
    example(
        "www.google.com/search?q=(business))+ok\n",
        "<p><a href=\"http://www.google.com/search?q=(business))+ok\">www.google.com/search?q=(business))+ok</a></p>\n",
    );
    example(
        "www.google.com/search?q=commonmark&hl=en\n\nwww.google.com/search?q=commonmark&hl;\n",
        "<p><a href=\"http://www.google.com/search?q=commonmark&amp;hl=en\">www.google.com/search?q=commonmark&amp;hl=en</a></p>\n<p><a href=\"http://www.google.com/search?q=commonmark\">www.google.com/search?q=commonmark</a>&amp;hl;</p>\n",
    );
    example(
        "www.commonmark.org/he<lp\n",
        "<p><a href=\"http://www.commonmark.org/he\">www.commonmark.org/he</a>&lt;lp</p>\n",
    );
    // `ftp:` is refused by the safety policy: the address stays text.
    example(
        "http://commonmark.org\n\n(Visit https://encrypted.google.com/search?q=Markup+(business))\n\nAnonymous FTP is available at ftp://foo.bar.baz.\n",
        "<p><a href=\"http://commonmark.org\">http://commonmark.org</a></p>\n<p>(Visit <a href=\"https://encrypted.google.com/search?q=Markup+(business)\">https://encrypted.google.com/search?q=Markup+(business)</a>)</p>\n<p>Anonymous FTP is available at ftp://foo.bar.baz.</p>\n",
    );
    example(
        "foo@bar.baz\n",
        "<p><a href=\"mailto:foo@bar.baz\">foo@bar.baz</a></p>\n",
    );
    example(
        "hello@mail+xyz.example isn't valid, but hello+xyz@mail.example is.\n",
        "<p>hello@mail+xyz.example isn't valid, but <a href=\"mailto:hello+xyz@mail.example\">hello+xyz@mail.example</a> is.</p>\n",
    );
    example(
        "a.b-c_d@a.b\n\na.b-c_d@a.b.\n\na.b-c_d@a.b-\n\na.b-c_d@a.b_\n",
        "<p><a href=\"mailto:a.b-c_d@a.b\">a.b-c_d@a.b</a></p>\n<p><a href=\"mailto:a.b-c_d@a.b\">a.b-c_d@a.b</a>.</p>\n<p>a.b-c_d@a.b-</p>\n<p>a.b-c_d@a.b_</p>\n",
    );
    example(
        "mailto:foo@bar.baz\n\nmailto:a.b-c_d@a.b\n\nmailto:a.b-c_d@a.b.\n\nmailto:a.b-c_d@a.b/\n\nmailto:a.b-c_d@a.b-\n\nmailto:a.b-c_d@a.b_\n",
        "<p><a href=\"mailto:foo@bar.baz\">mailto:foo@bar.baz</a></p>\n<p><a href=\"mailto:a.b-c_d@a.b\">mailto:a.b-c_d@a.b</a></p>\n<p><a href=\"mailto:a.b-c_d@a.b\">mailto:a.b-c_d@a.b</a>.</p>\n<p><a href=\"mailto:a.b-c_d@a.b\">mailto:a.b-c_d@a.b</a>/</p>\n<p>mailto:a.b-c_d@a.b-</p>\n<p>mailto:a.b-c_d@a.b_</p>\n",
    );
}

/// Issue #12's answer shapes, as gpt-4o-mini writes them.
#[test]
fn the_answer_shapes_models_write_most() {
    example(
        "1. Install:\n\n   ```bash\n   npm i x\n   ```\n\n2. Configure it:\n",
        "<ol>\n<li>\n<p>Install:</p>\n<pre><code class=\"language-bash\">npm i x\n</code></pre>\n</li>\n<li>\n<p>Configure it:</p>\n</li>\n</ol>\n",
    );
    example(
        "- foo\n\n- bar\n\n- baz\n",
        "<ul>\n<li>\n<p>foo</p>\n</li>\n<li>\n<p>bar</p>\n</li>\n<li>\n<p>baz</p>\n</li>\n</ul>\n",
    );
    example(
        "- foo\n  - bar\n    - baz\n",
        "<ul>\n<li>foo\n<ul>\n<li>bar\n<ul>\n<li>baz</li>\n</ul>\n</li>\n</ul>\n</li>\n</ul>\n",
    );
    example(
        "| Plan | Price |\n| :--- | ---: |\n| Pro | $10 |\n",
        "<table>\n<thead>\n<tr>\n<th align=\"left\">Plan</th>\n<th align=\"right\">Price</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td align=\"left\">Pro</td>\n<td align=\"right\">$10</td>\n</tr>\n</tbody>\n</table>\n",
    );
    example(
        "Compare:\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        "<p>Compare:</p>\n<table>\n<thead>\n<tr>\n<th>a</th>\n<th>b</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td>1</td>\n<td>2</td>\n</tr>\n</tbody>\n</table>\n",
    );
    example(
        "&copy; 2026 &#169; www.acme.test\n",
        "<p>© 2026 © <a href=\"http://www.acme.test\">www.acme.test</a></p>\n",
    );
}
