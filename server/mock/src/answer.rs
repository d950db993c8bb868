//! Deterministic answers: the same request always gets the same text, so a
//! test can know the answer in advance (ask the non-streaming endpoint, or call
//! [`generate`]) and tell a lost, doubled or reordered token from a right one.
//! [`AnswerMode`] chooses between these generated answers and the demo's
//! ([`crate::demo`]), which are just as deterministic.

use ringside_wire::chat::{ChatRequest, Role};
use serde::{Deserialize, Serialize};

/// Which answers the mock writes when no script gives the text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum AnswerMode {
    /// Sentences of words from a small vocabulary, seeded by the request,
    /// `answer_tokens` long ([`generate`]): what tests know in advance.
    #[default]
    Generated,
    /// The demo's answers about its fictional company, chosen by what the
    /// question is about, cut into a real tokenizer's tokens ([`crate::demo`]).
    Demo,
}

const WORDS: &[&str] = &[
    "the",
    "widget",
    "streams",
    "each",
    "token",
    "as",
    "it",
    "arrives",
    "from",
    "gateway",
    "a",
    "short-lived",
    "client",
    "is",
    "minted",
    "by",
    "host",
    "server",
    "and",
    "bound",
    "to",
    "one",
    "origin",
    "browser",
    "never",
    "holds",
    "key",
    "answers",
    "are",
    "rendered",
    "safely",
    "with",
    "markdown",
    "so",
    "model",
    "output",
    "cannot",
    "become",
    "script",
    "every",
    "message",
    "kept",
    "across",
    "reloads",
    "costs",
    "counted",
    "against",
    "budget",
    "wallet",
    "rate",
    "limit",
    "applies",
    "per",
    "customer",
    "in",
    "this",
    "demo",
    "mock",
    "plays",
    "role",
    "of",
    "Ringside",
    "on",
    "loopback",
    "without",
    "network",
];

/// FNV-1a, stable across platforms and releases (unlike `DefaultHasher`).
pub fn fnv1a(bytes: &[u8], mut hash: u64) -> u64 {
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// SplitMix64: a tiny, good-enough deterministic generator.
#[derive(Debug, Clone)]
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The seed of a request: its model and every message, in order.
pub fn seed(request: &ChatRequest) -> u64 {
    let mut hash = fnv1a(request.model.as_bytes(), 0xcbf2_9ce4_8422_2325);
    for message in &request.messages {
        hash = fnv1a(&[message.role as u8, 0], hash);
        hash = fnv1a(message.content.as_bytes(), hash);
        hash = fnv1a(&[0xff], hash);
    }
    hash
}

/// The answer to `request`, as `count` tokens whose concatenation is the text.
///
/// Sentences of 6 to 14 words, paragraphs of 2 to 4 sentences; every token is
/// a word with its leading space or paragraph break, like a real tokenizer's.
pub fn generate(request: &ChatRequest, count: usize) -> Vec<String> {
    Generator::new(seed(request), count).collect()
}

/// The tokens of an answer, made one at a time as a stream sends them, so an
/// open stream holds a few words of state, not its whole answer.
#[derive(Debug, Clone)]
pub struct Generator {
    rng: Rng,
    left: usize,
    words_left: usize,
    sentences_left: usize,
    separator: &'static str,
    capitalize: bool,
}

impl Generator {
    /// The `count` tokens of the answer seeded by `seed` (see [`seed`]).
    pub fn new(seed: u64, count: usize) -> Self {
        let mut rng = Rng(seed);
        let sentences_left = 2 + rng.below(3);
        Generator {
            rng,
            left: count,
            words_left: 0,
            sentences_left,
            separator: "",
            capitalize: true,
        }
    }
}

impl Iterator for Generator {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        if self.words_left == 0 {
            self.words_left = 6 + self.rng.below(9);
        }
        let word = WORDS[self.rng.below(WORDS.len())];
        let mut token = String::with_capacity(self.separator.len() + word.len() + 1);
        token.push_str(self.separator);
        if self.capitalize {
            let mut chars = word.chars();
            token.extend(chars.next().into_iter().flat_map(char::to_uppercase));
            token.push_str(chars.as_str());
        } else {
            token.push_str(word);
        }
        self.words_left -= 1;
        if self.words_left == 0 || self.left == 0 {
            token.push('.');
        }
        self.capitalize = self.words_left == 0;
        self.separator = " ";
        if self.words_left == 0 {
            self.sentences_left -= 1;
            if self.sentences_left == 0 {
                self.sentences_left = 2 + self.rng.below(3);
                self.separator = "\n\n";
            }
        }
        Some(token)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Generator {}

/// A request that ends with an assistant message after a question asks the
/// model to continue that message (a "prefill", as a widget does to finish an
/// answer cut off by a page change): the request without it, and its text.
pub fn continuation(request: &ChatRequest) -> Option<(ChatRequest, String)> {
    let (last, earlier) = request.messages.split_last()?;
    if last.role != Role::Assistant
        || last.content.is_empty()
        || !earlier.iter().any(|m| m.role == Role::User)
    {
        return None;
    }
    let mut without = request.clone();
    without.messages.pop();
    Some((without, last.content.clone()))
}

/// The tokens left once `prefix` is taken off the front of `tokens` (a token
/// the prefix ends inside is cut there); `None` when the tokens do not start
/// with `prefix`.
pub fn after_prefix(tokens: &[String], prefix: &str) -> Option<Vec<String>> {
    let mut matched = 0;
    for (i, token) in tokens.iter().enumerate() {
        let left = &prefix[matched..];
        if left.is_empty() {
            return Some(tokens[i..].to_vec());
        }
        if let Some(rest) = token.strip_prefix(left) {
            let mut after = vec![rest.to_string()];
            after.extend_from_slice(&tokens[i + 1..]);
            after.retain(|t| !t.is_empty());
            return Some(after);
        }
        if !left.starts_with(token.as_str()) {
            return None;
        }
        matched += token.len();
    }
    (matched == prefix.len()).then(Vec::new)
}

/// Splits a scripted `text` into word tokens: each token is a word with the
/// whitespace before it (whitespace at the very end is a token of its own),
/// so the tokens always concatenate back to `text`.
pub fn split_words(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut start = 0;
    let mut in_word = false;
    for (i, c) in text.char_indices() {
        let space = c.is_whitespace();
        if space && in_word {
            tokens.push(text[start..i].to_string());
            start = i;
        }
        in_word = !space;
    }
    if start < text.len() {
        tokens.push(text[start..].to_string());
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringside_wire::chat::ChatMessage;

    fn request(text: &str) -> ChatRequest {
        ChatRequest {
            model: "fc:openai/gpt-4o-mini".into(),
            messages: vec![ChatMessage {
                role: Role::User,
                content: text.into(),
            }],
            stream: true,
            user: None,
            max_tokens: None,
            temperature: None,
            stream_options: None,
        }
    }

    #[test]
    fn the_same_request_gets_the_same_answer_and_another_a_different_one() {
        assert_eq!(generate(&request("hi"), 50), generate(&request("hi"), 50));
        assert_ne!(
            generate(&request("hi"), 50),
            generate(&request("hello"), 50)
        );
    }

    #[test]
    fn answers_have_the_asked_length_and_read_like_text() {
        let tokens = generate(&request("hi"), 120);
        assert_eq!(tokens.len(), 120);
        let text = tokens.concat();
        assert!(text.ends_with('.'), "{text}");
        assert!(text.chars().next().unwrap().is_uppercase(), "{text}");
        assert!(text.contains("\n\n"), "paragraphs: {text}");
        assert!(!text.contains("  "), "no double spaces: {text}");
        assert!(
            tokens[1..]
                .iter()
                .all(|t| t.starts_with(' ') || t.starts_with("\n\n"))
        );
    }

    /// Issue 17: a widget finishes an answer cut off by a page change by
    /// sending what it has as the last, assistant, message; the mock sends
    /// the rest of the same answer, so the two join exactly.
    #[test]
    fn a_continuation_gets_the_rest_of_the_same_answer() {
        let asked = request("tell me more");
        let whole = generate(&asked, 60);
        for cut in [1, 7, 30, 59] {
            let mut prefix = whole[..cut].concat();
            // Mid-token too: a stream may be cut anywhere its text was painted.
            prefix.push_str(&whole[cut][..2]);
            let mut continuing = asked.clone();
            continuing.messages.push(ChatMessage {
                role: Role::Assistant,
                content: prefix.clone(),
            });
            let (without, said) = continuation(&continuing).expect("a continuation");
            assert_eq!((&without, &said), (&asked, &prefix));
            let rest = after_prefix(&generate(&without, 60), &said).expect("the same answer");
            assert_eq!(
                format!("{prefix}{}", rest.concat()),
                whole.concat(),
                "cut at {cut}"
            );
        }
        assert_eq!(after_prefix(&whole, "Not how it starts"), None);
        assert_eq!(after_prefix(&whole, &whole.concat()), Some(Vec::new()));
        assert_eq!(
            continuation(&asked),
            None,
            "a plain question is not a continuation"
        );
    }

    #[test]
    fn scripted_text_splits_into_words_with_their_leading_space() {
        assert_eq!(
            split_words("Hello,  big\nworld "),
            ["Hello,", "  big", "\nworld", " "]
        );
        assert_eq!(split_words("  lead"), ["  lead"]);
        assert_eq!(split_words(""), Vec::<String>::new());
        for text in ["a b", " x  y\t", "é 世界 🎉", "\n\n"] {
            assert_eq!(split_words(text).concat(), text, "{text:?}");
        }
    }
}
