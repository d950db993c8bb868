//! The conversation: what was said, by whom, and how each message stands.
//! Plain data, no DOM, so its rules are unit-tested natively.

use ringside_wire::chat::{ChatMessage, Role};
use ringside_wire::json::{self, Value};

/// How a message stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Complete.
    Done,
    /// An answer still arriving.
    Streaming,
    /// An answer the user stopped; its text so far is kept.
    Stopped,
    /// An answer that broke off; its text so far is kept, and it can be retried.
    Interrupted(String),
    /// A question the gateway refused before answering; it can be retried.
    NotSent(String),
}

/// One message of the transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Unique within the conversation; the key of its DOM node.
    pub id: u32,
    /// Who wrote it.
    pub role: Role,
    /// Its text. For a streaming answer the text so far lives in the
    /// stream's buffer, and lands here when it ends.
    pub text: String,
    /// How it stands.
    pub status: Status,
}

/// The messages of one conversation, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conversation {
    messages: Vec<Message>,
    next_id: u32,
}

impl Conversation {
    /// The messages, oldest first.
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// The message with `id`.
    pub fn get(&self, id: u32) -> Option<&Message> {
        self.messages.iter().find(|m| m.id == id)
    }

    /// The message with `id`, to update it.
    pub fn get_mut(&mut self, id: u32) -> Option<&mut Message> {
        self.messages.iter_mut().find(|m| m.id == id)
    }

    /// Adds a message and returns its id.
    pub fn push(&mut self, role: Role, text: String, status: Status) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        self.messages.push(Message {
            id,
            role,
            text,
            status,
        });
        id
    }

    /// Puts `earlier` (a stored conversation) before the messages already
    /// here, which keep their ids; the earlier ones get new ids, returned.
    pub fn prepend(&mut self, mut earlier: Conversation) -> std::ops::Range<u32> {
        let first = self.next_id;
        for message in &mut earlier.messages {
            message.id = self.next_id;
            self.next_id += 1;
        }
        earlier.messages.append(&mut self.messages);
        self.messages = earlier.messages;
        first..self.next_id
    }

    /// Removes the message with `id`.
    pub fn remove(&mut self, id: u32) {
        self.messages.retain(|m| m.id != id);
    }

    /// Whether an answer is arriving now.
    pub fn is_streaming(&self) -> bool {
        self.messages.iter().any(|m| m.status == Status::Streaming)
    }

    /// The id of the last answer, if the conversation ends with one that is
    /// not streaming: the one "Regenerate" replaces.
    pub fn last_answer(&self) -> Option<u32> {
        match self.messages.last() {
            Some(m) if m.role == Role::Assistant && m.status != Status::Streaming => Some(m.id),
            _ => None,
        }
    }

    /// The question an answer replies to: the user message before it.
    pub fn question_of(&self, answer: u32) -> Option<u32> {
        let at = self.messages.iter().position(|m| m.id == answer)?;
        self.messages[..at]
            .iter()
            .rev()
            .find(|m| m.role == Role::User)
            .map(|m| m.id)
    }

    /// What to send to the model to answer the user message `question`: the
    /// conversation up to it, at most `limit` messages, starting with a user
    /// message. Questions that were never sent and answers that broke off
    /// are left out (the model never saw them); stopped answers stay.
    pub fn history_for(&self, question: u32, limit: usize) -> Vec<ChatMessage> {
        let Some(end) = self.messages.iter().position(|m| m.id == question) else {
            return Vec::new();
        };
        let usable: Vec<&Message> = self.messages[..=end]
            .iter()
            .filter(|m| {
                m.id == question
                    || (!m.text.is_empty() && matches!(m.status, Status::Done | Status::Stopped))
            })
            .collect();
        let mut start = usable.len().saturating_sub(limit.max(1));
        while start < usable.len() && usable[start].role != Role::User {
            start += 1;
        }
        usable[start..]
            .iter()
            .map(|m| ChatMessage {
                role: m.role,
                content: m.text.clone(),
            })
            .collect()
    }

    /// The conversation as JSON, for storage. A streaming answer is saved as
    /// interrupted: if the page goes away, the stream goes with it.
    pub fn to_json(&self, customer: &str) -> String {
        let mut out = String::from("{\"v\":1,\"customer\":");
        json::write_string(&mut out, customer);
        out.push_str(",\"messages\":[");
        for (i, m) in self.messages.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(if m.role == Role::User {
                "{\"role\":\"user\",\"text\":"
            } else {
                "{\"role\":\"assistant\",\"text\":"
            });
            json::write_string(&mut out, &m.text);
            let (status, reason) = match &m.status {
                Status::Done => ("done", None),
                Status::Stopped => ("stopped", None),
                Status::Streaming => (
                    "interrupted",
                    Some("The page was closed during the answer."),
                ),
                Status::Interrupted(reason) => ("interrupted", Some(reason.as_str())),
                Status::NotSent(reason) => ("not_sent", Some(reason.as_str())),
            };
            out.push_str(",\"status\":\"");
            out.push_str(status);
            out.push('"');
            if let Some(reason) = reason {
                out.push_str(",\"reason\":");
                json::write_string(&mut out, reason);
            }
            out.push('}');
        }
        out.push_str("]}");
        out
    }

    /// A stored conversation and the customer it belongs to; `None` if the
    /// text is not one (a stale or foreign format is dropped, not trusted).
    pub fn from_json(text: &str) -> Option<(String, Conversation)> {
        let value = json::parse(text).ok()?;
        if value.get("v").and_then(Value::as_u64) != Some(1) {
            return None;
        }
        let customer = value.get("customer")?.as_str()?.to_string();
        let mut conversation = Conversation::default();
        let Some(Value::Array(items)) = value.get("messages") else {
            return None;
        };
        for item in items {
            let role = match item.get("role")?.as_str()? {
                "user" => Role::User,
                "assistant" => Role::Assistant,
                _ => return None,
            };
            let text = item.get("text")?.as_str()?.to_string();
            let reason = || {
                item.get("reason")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            let status = match item.get("status")?.as_str()? {
                "done" => Status::Done,
                "stopped" => Status::Stopped,
                "interrupted" => Status::Interrupted(reason()),
                "not_sent" => Status::NotSent(reason()),
                _ => return None,
            };
            conversation.push(role, text, status);
        }
        Some((customer, conversation))
    }
}

#[cfg(test)]
mod tests {
    // The same tests run in headless Chromium: `cargo xtask test` (wasm-bindgen-test).
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn texts(history: &[ChatMessage]) -> Vec<&str> {
        history.iter().map(|m| m.content.as_str()).collect()
    }

    #[test]
    fn history_is_bounded_and_starts_with_the_user() {
        let mut c = Conversation::default();
        for i in 0..5 {
            c.push(Role::User, format!("q{i}"), Status::Done);
            c.push(Role::Assistant, format!("a{i}"), Status::Done);
        }
        let q = c.push(Role::User, "q5".into(), Status::Done);
        // The last 4 are a3 q4 a4 q5; the leading answer is dropped.
        assert_eq!(texts(&c.history_for(q, 4)), ["q4", "a4", "q5"]);
    }

    #[test]
    fn history_leaves_out_what_the_model_never_saw() {
        let mut c = Conversation::default();
        c.push(Role::User, "refused".into(), Status::NotSent("429".into()));
        c.push(Role::User, "q1".into(), Status::Done);
        c.push(
            Role::Assistant,
            "half".into(),
            Status::Interrupted("cut".into()),
        );
        c.push(Role::User, "q2".into(), Status::Done);
        c.push(Role::Assistant, "stopped early".into(), Status::Stopped);
        let q3 = c.push(Role::User, "q3".into(), Status::NotSent("429".into()));
        c.push(Role::Assistant, String::new(), Status::Streaming);
        assert_eq!(
            texts(&c.history_for(q3, 20)),
            ["q1", "q2", "stopped early", "q3"]
        );
    }

    #[test]
    fn regenerate_finds_the_last_answer_and_its_question() {
        let mut c = Conversation::default();
        assert_eq!(c.last_answer(), None);
        let q = c.push(Role::User, "q".into(), Status::Done);
        let a = c.push(Role::Assistant, "a".into(), Status::Streaming);
        assert_eq!(c.last_answer(), None, "not while it streams");
        c.get_mut(a).unwrap().status = Status::Done;
        assert_eq!(c.last_answer(), Some(a));
        assert_eq!(c.question_of(a), Some(q));
        c.remove(a);
        assert_eq!(c.last_answer(), None);
        assert!(!c.is_streaming());
    }

    #[test]
    fn a_stored_conversation_goes_before_what_was_asked_meanwhile() {
        let mut stored = Conversation::default();
        stored.push(Role::User, "old q".into(), Status::Done);
        stored.push(Role::Assistant, "old a".into(), Status::Done);
        let mut c = Conversation::default();
        let q = c.push(Role::User, "new q".into(), Status::Done);
        let a = c.push(Role::Assistant, String::new(), Status::Streaming);
        let restored = c.prepend(stored);
        let texts: Vec<&str> = c.messages().iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, ["old q", "old a", "new q", ""]);
        assert_eq!(
            (c.get(q).unwrap().text.as_str(), c.get(a).unwrap().role),
            ("new q", Role::Assistant)
        );
        let mut ids: Vec<u32> = c.messages().iter().map(|m| m.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 4, "ids stay unique");
        assert_eq!(restored.len(), 2);
        assert!(
            restored
                .clone()
                .all(|id| c.get(id).is_some_and(|m| m.text.starts_with("old")))
        );
        assert_eq!(c.question_of(a), Some(q));
    }

    #[test]
    fn a_conversation_survives_storage_and_a_streaming_answer_comes_back_interrupted() {
        let mut c = Conversation::default();
        c.push(Role::User, "hé \"quoted\"\n<b>".into(), Status::Done);
        c.push(Role::Assistant, "partial".into(), Status::Streaming);
        c.push(
            Role::User,
            "later".into(),
            Status::NotSent("Too many".into()),
        );
        let (customer, back) = Conversation::from_json(&c.to_json("cus_1")).unwrap();
        assert_eq!(customer, "cus_1");
        assert_eq!(back.messages()[0], c.messages()[0]);
        assert!(matches!(back.messages()[1].status, Status::Interrupted(_)));
        assert_eq!(
            back.messages()[2].status,
            Status::NotSent("Too many".into())
        );
        assert_eq!(
            Conversation::from_json("{\"v\":2}"),
            None,
            "another format is not trusted"
        );
        assert_eq!(Conversation::from_json("garbage"), None);
    }
}
