//! The demo's answers (`answer_mode: "demo"`): what a good model would say
//! about Acme Rockets, the fictional company of `cargo xtask demo`, chosen by
//! what the question is about, and cut into the tokens a model streams
//! ([`tokens`]).
//!
//! The texts are the Markdown files in `answers/`. Between them they use
//! every construct the widget renders: a table with aligned columns
//! (`pricing`), numbered steps with a fenced code block indented in each
//! (`install`), lists nested three deep and a task list (`payloads`), block
//! quotes, inline code, bold, italic and strikethrough, links (some to the
//! demo's own pages), and a long answer of over 2,000 tokens (`everything`).
//! A question in Arabic gets an Arabic answer (`arabic`), for the
//! right-to-left page. `{{origin}}` in a text is the asking page's origin, so the links to the
//! demo's pages work wherever the demo is served.
//!
//! Like the generated answers, these are deterministic: the same question
//! (and context) gets the same text, token for token.

use ringside_wire::chat::{ChatRequest, Role};

pub mod tokens;

/// One kind of question, and its answer.
#[derive(Debug)]
pub struct Topic {
    /// Its name, as tests and the manual call it.
    pub name: &'static str,
    /// Its heading when one answer covers several topics.
    pub title: &'static str,
    /// Words and phrases (lowercase, matched as whole words) that say a
    /// question is about it.
    pub keywords: &'static [&'static str],
    /// The answer, in Markdown.
    pub text: &'static str,
}

/// The topics a question can combine, in no particular order: an answer
/// takes them in the order the question mentions them.
pub const TOPICS: &[Topic] = &[
    Topic {
        name: "pricing",
        title: "Plans and pricing",
        keywords: &[
            "price",
            "prices",
            "pricing",
            "cost",
            "costs",
            "plan",
            "plans",
            "compare",
            "comparison",
            "table",
            "tier",
            "tiers",
            "subscription",
            "how much",
            "upgrade",
            "cheap",
            "expensive",
            "starter",
            "pro",
            "fleet",
        ],
        text: include_str!("answers/pricing.md"),
    },
    Topic {
        name: "install",
        title: "Installing the `acme` CLI",
        keywords: &[
            "install",
            "installing",
            "installation",
            "setup",
            "set up",
            "get started",
            "getting started",
            "started",
            "cli",
            "steps",
            "step",
            "download",
            "quickstart",
            "command line",
            "book",
            "booking",
        ],
        text: include_str!("answers/install.md"),
    },
    Topic {
        name: "payloads",
        title: "Payloads and orbits",
        keywords: &[
            "payload",
            "payloads",
            "orbit",
            "orbits",
            "satellite",
            "satellites",
            "cubesat",
            "cubesats",
            "roadrunner",
            "fly",
            "heavy",
            "mass",
            "weight",
            "checklist",
            "integration",
            "fit",
            "fits",
        ],
        text: include_str!("answers/payloads.md"),
    },
    Topic {
        name: "refunds",
        title: "Delays and refunds",
        keywords: &[
            "refund",
            "refunds",
            "cancel",
            "cancellation",
            "delay",
            "delayed",
            "delays",
            "slip",
            "reschedule",
            "money back",
            "postpone",
        ],
        text: include_str!("answers/refunds.md"),
    },
    Topic {
        name: "how-it-works",
        title: "How this chat works",
        keywords: &[
            "this chat",
            "chat",
            "widget",
            "ringside",
            "token",
            "tokens",
            "secure",
            "security",
            "safe",
            "api key",
            "embed",
            "how does this work",
            "how do you work",
            "privacy",
            "streaming",
        ],
        text: include_str!("answers/how-it-works.md"),
    },
];

/// "Tell me everything": the long answer, alone.
pub const EVERYTHING: Topic = Topic {
    name: "everything",
    title: "Everything",
    keywords: &[
        "everything",
        "tell me all",
        "all about",
        "full tour",
        "overview",
        "the whole thing",
    ],
    text: include_str!("answers/everything.md"),
};

/// "Explain this page" from the help panel of the Console's billing page
/// (its `context` names the page).
pub const BILLING_PAGE: Topic = Topic {
    name: "billing-page",
    title: "This page",
    keywords: &[
        "this page",
        "this screen",
        "explain this",
        "where am i",
        "what am i looking at",
    ],
    text: include_str!("answers/billing-page.md"),
};

/// A question in Arabic (the right-to-left page's): plans, a table and
/// two steps, in Arabic, whatever it asks.
pub const ARABIC: Topic = Topic {
    name: "arabic",
    title: "بالعربية",
    keywords: &[],
    text: include_str!("answers/arabic.md"),
};

/// A greeting, when the question is nothing more.
pub const GREETING: Topic = Topic {
    name: "greeting",
    title: "Hello",
    keywords: &[
        "hi",
        "hello",
        "hey",
        "good morning",
        "good afternoon",
        "good evening",
    ],
    text: include_str!("answers/greeting.md"),
};

/// Anything else: what the assistant can help with.
pub const FALLBACK: Topic = Topic {
    name: "fallback",
    title: "What I can help with",
    keywords: &[],
    text: include_str!("answers/fallback.md"),
};

/// The opening of an answer that covers several topics.
const SEVERAL: &str = "Happy to help with all of that. I'll take it one part at a time.";

/// Where links point when the request names no usable origin (a server's
/// call has none): the address `cargo xtask demo` serves its pages on.
pub const DEFAULT_SITE: &str = "http://127.0.0.1:8080";

/// The answer to `request`, asked from a page of `origin` (the request's
/// `Origin` header, if any).
pub fn answer(request: &ChatRequest, origin: Option<&str>) -> String {
    let topics = topics_for(request);
    let text = match topics.as_slice() {
        [only] => only.text.trim_end().to_string(),
        several => {
            let mut text = String::from(SEVERAL);
            for topic in several {
                text.push_str("\n\n### ");
                text.push_str(topic.title);
                text.push_str("\n\n");
                text.push_str(topic.text.trim_end());
            }
            text
        }
    };
    text.replace("{{origin}}", site(origin))
}

/// The topics that answer `request`'s last question, in the order it names
/// them; never empty.
pub fn topics_for(request: &ChatRequest) -> Vec<&'static Topic> {
    let question = request
        .messages
        .iter()
        .rev()
        .find(|m| m.role == Role::User)
        .map_or("", |m| m.content.as_str());
    if question
        .chars()
        .any(|c| ('\u{0600}'..='\u{06ff}').contains(&c))
    {
        return vec![&ARABIC];
    }
    let question = words(question);
    if mentions(&question, &EVERYTHING).is_some() {
        return vec![&EVERYTHING];
    }
    let on_billing_page = request
        .messages
        .iter()
        .any(|m| m.role == Role::System && m.content.contains("billing"));
    if on_billing_page && mentions(&question, &BILLING_PAGE).is_some() {
        return vec![&BILLING_PAGE];
    }
    let mut found: Vec<(usize, &'static Topic)> = TOPICS
        .iter()
        .filter_map(|topic| Some((mentions(&question, topic)?, topic)))
        .collect();
    found.sort_by_key(|(at, _)| *at);
    match found.is_empty() {
        false => found.into_iter().map(|(_, topic)| topic).collect(),
        true if mentions(&question, &GREETING).is_some() => vec![&GREETING],
        true => vec![&FALLBACK],
    }
}

/// `text` lowercased, as words separated by single spaces, with a space at
/// each end, so that ` word ` matches whole words only.
fn words(text: &str) -> String {
    let mut out = String::from(" ");
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        out.extend(word.chars().flat_map(char::to_lowercase));
        out.push(' ');
    }
    out
}

/// Where `question` (made by [`words`]) first mentions `topic`, if it does.
fn mentions(question: &str, topic: &Topic) -> Option<usize> {
    topic
        .keywords
        .iter()
        .filter_map(|keyword| question.find(&format!(" {keyword} ")))
        .min()
}

/// `origin` if it is a plain `http(s)://host[:port]` origin, else
/// [`DEFAULT_SITE`]: what reaches a link is never more than an origin.
fn site(origin: Option<&str>) -> &str {
    let plain = |origin: &str| {
        let Some(rest) = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
        else {
            return false;
        };
        !rest.is_empty()
            && rest.len() <= 255
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
    };
    match origin {
        Some(origin) if plain(origin) => origin,
        _ => DEFAULT_SITE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringside_wire::chat::ChatMessage;

    fn asking(messages: &[(Role, &str)]) -> ChatRequest {
        ChatRequest {
            model: "fc:openai/gpt-4o-mini".into(),
            messages: messages
                .iter()
                .map(|(role, content)| ChatMessage {
                    role: *role,
                    content: (*content).into(),
                })
                .collect(),
            stream: true,
            user: None,
            max_tokens: None,
            temperature: None,
            stream_options: None,
        }
    }

    fn topics(question: &str) -> Vec<&'static str> {
        topics_for(&asking(&[(Role::User, question)]))
            .iter()
            .map(|t| t.name)
            .collect()
    }

    /// Every text, as a visitor could be shown it.
    fn all_texts() -> Vec<&'static str> {
        TOPICS
            .iter()
            .chain([&EVERYTHING, &BILLING_PAGE, &ARABIC, &GREETING, &FALLBACK])
            .map(|t| t.text)
            .collect()
    }

    #[test]
    fn the_question_decides_the_topic_in_the_order_it_names_them() {
        assert_eq!(topics("What does a launch cost?"), ["pricing"]);
        assert_eq!(topics("How heavy can payloads be?"), ["payloads"]);
        assert_eq!(topics("How much is the Pro plan?"), ["pricing"]);
        assert_eq!(
            topics("Compare your plans in a table, then give me install steps"),
            ["pricing", "install"]
        );
        assert_eq!(topics("How do I INSTALL the CLI?"), ["install"]);
        assert_eq!(topics("What can I fly on Roadrunner?"), ["payloads"]);
        assert_eq!(topics("What if my launch is delayed?"), ["refunds"]);
        assert_eq!(topics("Is this chat secure?"), ["how-it-works"]);
        assert_eq!(
            topics("Tell me everything about your plans"),
            ["everything"]
        );
        assert_eq!(topics("Hello!"), ["greeting"]);
        assert_eq!(topics("What's the weather like on Mars?"), ["fallback"]);
        assert_eq!(topics("Who won the match yesterday?"), ["fallback"]);
        assert_eq!(topics(""), ["fallback"]);
        assert_eq!(topics("ما هي خططكم وأسعارها؟"), ["arabic"]);
        // Whole words only: "product" is not "pro", "hierarchy" not "hi".
        assert_eq!(topics("A product hierarchy"), ["fallback"]);
    }

    #[test]
    fn the_last_question_counts_and_the_page_context_explains_this_page() {
        let request = asking(&[
            (Role::User, "How do I install it?"),
            (Role::Assistant, "Like so."),
            (Role::User, "And what does it cost?"),
        ]);
        assert_eq!(topics_for(&request)[0].name, "pricing");
        let billing = asking(&[
            (
                Role::System,
                "The user is on this page of the host's site: {\"page\":\"billing\",\"plan\":\"pro\"}",
            ),
            (Role::User, "Explain this page to me."),
        ]);
        assert_eq!(topics_for(&billing)[0].name, "billing-page");
        assert_eq!(
            topics("Explain this page to me."),
            ["fallback"],
            "without the context"
        );
    }

    #[test]
    fn several_topics_make_one_answer_with_a_heading_each() {
        let text = answer(
            &asking(&[(Role::User, "Compare plans, then install steps")]),
            None,
        );
        assert!(text.starts_with(SEVERAL), "{text}");
        let pricing = text.find("### Plans and pricing").expect(&text);
        let install = text.find("### Installing the `acme` CLI").expect(&text);
        assert!(pricing < install);
        assert!(text.contains(TOPICS[0].text.trim_end()));
    }

    #[test]
    fn links_to_the_demos_pages_use_the_asking_pages_origin_or_the_demos() {
        let question = asking(&[(Role::User, "How does this chat work?")]);
        let text = answer(&question, Some("http://localhost:8080"));
        assert!(
            text.contains("](http://localhost:8080/states.html)"),
            "{text}"
        );
        assert!(!text.contains("{{origin}}"));
        for bad in [
            None,
            Some("null"),
            Some("javascript:alert(1)"),
            Some("http://a.b/path"),
            Some("http://a b"),
            Some("https://"),
        ] {
            let text = answer(&question, bad);
            assert!(
                text.contains(&format!("]({DEFAULT_SITE}/states.html)")),
                "{bad:?}: {text}"
            );
        }
    }

    #[test]
    fn the_links_to_the_demos_pages_name_pages_that_exist() {
        let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../demo");
        for text in all_texts() {
            for (at, _) in text.match_indices("{{origin}}/") {
                let page: String = text[at + "{{origin}}/".len()..]
                    .chars()
                    .take_while(|c| *c != ')' && *c != '#')
                    .collect();
                assert!(
                    demo.join(&page).is_file(),
                    "an answer links to {page}, which demo/ does not have"
                );
            }
        }
    }

    #[test]
    fn between_them_the_answers_use_every_construct_the_widget_renders() {
        let all = all_texts().join("\n\n");
        let has = |what: &str, needle: &str| {
            assert!(all.contains(needle), "no answer has {what} ({needle:?})");
        };
        has(
            "a table with left, right and centred columns",
            "|:-----|------:|:-----------------:|",
        );
        has(
            "numbered steps with a code block indented in them",
            "1. **Install the CLI.**",
        );
        has(
            "a fenced code block inside a list item",
            "\n   ```sh\n   curl",
        );
        has(
            "a list nested three deep",
            "\n  - 1U to 6U, up to 12 kg\n    - 1U to 3U",
        );
        has("a block quote", "\n> ");
        has("inline code", "`acme doctor`");
        has("bold", "**Pro**");
        has("italic", "*Starter*");
        has("strikethrough", "~~$59~~");
        has("a done task", "\n- [x] ");
        has("an open task", "\n- [ ] ");
        has("a web link", "](https://");
        has("a mail link", "](mailto:");
        has("a link to the demo's own pages", "]({{origin}}/");
        has("a heading", "\n### ");
        has("a non-ASCII character", "°");
    }

    #[test]
    fn tell_me_everything_is_over_two_thousand_tokens() {
        let tokens = tokens::split(&answer(
            &asking(&[(Role::User, "Tell me everything")]),
            None,
        ));
        assert!(tokens.len() > 2_000, "{} tokens", tokens.len());
    }

    #[test]
    fn the_texts_are_well_formed_markdown_for_a_streaming_renderer() {
        for text in all_texts() {
            let fences = text
                .lines()
                .filter(|l| l.trim_start().starts_with("```"))
                .count();
            assert_eq!(fences % 2, 0, "every code block is closed: {text}");
            assert!(!text.contains('\t'), "indented with spaces, as models do");
            assert!(!text.contains("\r"), "one kind of line end");
            assert!(
                text.ends_with('\n') && !text.ends_with("\n\n"),
                "one final newline"
            );
        }
    }
}
