//! Cuts a text into the pieces a model streams: the tokens of OpenAI's
//! o200k tokenizer (the GPT-4o family's, so the mock's default model's),
//! decoded back to text. Common words are one token with their leading space,
//! rarer ones arrive in pieces (` cubes` `ats`), and Markdown's marks are
//! tokens of their own (` **`, `|`, "```"), so a widget that renders while
//! text streams in is shown every construct half-written.
//!
//! A token can end inside a character (an emoji is several byte-level
//! tokens); such tokens are joined with the next ones until the text is whole
//! again, as a gateway does before it sends a delta.

use std::sync::{LazyLock, Once};

use tiktoken_rs::CoreBPE;

/// The tokenizer, built once (its tables take a moment: about a second in a
/// debug build, which is why [`warm_up`] exists).
static TOKENIZER: LazyLock<Option<CoreBPE>> = LazyLock::new(|| match tiktoken_rs::o200k_base() {
    Ok(bpe) => Some(bpe),
    Err(error) => {
        tracing::error!(%error, "the o200k tokenizer failed to load; demo answers are split into words");
        None
    }
});

/// Builds the tokenizer on a thread of its own (once), so that the first
/// demo answer does not wait for it.
pub fn warm_up() {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        std::thread::spawn(|| LazyLock::force(&TOKENIZER));
    });
}

/// `text` as tokens whose concatenation is `text`.
pub fn split(text: &str) -> Vec<String> {
    let Some(bpe) = TOKENIZER.as_ref() else {
        return crate::answer::split_words(text);
    };
    let mut tokens = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    for rank in bpe.encode_ordinary(text) {
        match bpe.decode_bytes(&[rank]) {
            Ok(bytes) => pending.extend_from_slice(&bytes),
            Err(error) => {
                // Cannot happen for ranks the encoder just made; if it ever
                // does, the text is still sent whole, in words.
                tracing::error!(%error, "the o200k tokenizer could not decode its own token");
                return crate::answer::split_words(text);
            }
        }
        if let Ok(piece) = std::str::from_utf8(&pending) {
            tokens.push(piece.to_string());
            pending.clear();
        }
    }
    if !pending.is_empty() {
        // Only reachable if the tokens did not cover the text exactly.
        tokens.push(String::from_utf8_lossy(&pending).into_owned());
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_concatenate_back_to_the_text_even_across_multibyte_characters() {
        for text in [
            "Hello, world!",
            "Rockets 🚀 and naïve résumés → 45° · ½",
            "| a | b |\n|:--|--:|\n",
            "",
            "   leading and trailing   ",
        ] {
            let tokens = split(text);
            assert_eq!(tokens.concat(), text, "{tokens:?}");
            assert!(tokens.iter().all(|t| !t.is_empty()), "{tokens:?}");
        }
    }

    #[test]
    fn words_split_like_a_real_tokenizer_splits_them() {
        let tokens = split("Book a cubesat on Roadrunner with **acme**.");
        assert_eq!(tokens[0], "Book", "{tokens:?}");
        assert!(
            tokens.contains(&" a".to_string()),
            "common words are one token with their space: {tokens:?}"
        );
        // A rarer word arrives in pieces, so the text is mid-word between them.
        assert!(
            !tokens.iter().any(|t| t == " cubesat" || t == " Roadrunner"),
            "rare words are cut into sub-word pieces: {tokens:?}"
        );
        assert!(tokens.iter().any(|t| t.contains("**")), "{tokens:?}");
    }
}
