//! The conversation: what was said, by whom, and how each answer ended.
//! Plain data, no DOM, so its rules are unit-tested natively.

use ringside_wire::chat::{ChatMessage, Role};

/// How a message stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Complete.
    Done,
    /// An answer still arriving.
    Streaming,
    /// An answer that broke off; the text so far is kept.
    Interrupted(String),
}

/// One message of the transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Unique within the conversation; the key of its DOM node.
    pub id: u32,
    /// Who wrote it.
    pub role: Role,
    /// Its text. For a streaming answer, the text so far lives in the
    /// stream's buffer and lands here when it ends.
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

    /// The message with `id`, to update it.
    pub fn get_mut(&mut self, id: u32) -> Option<&mut Message> {
        self.messages.iter_mut().find(|m| m.id == id)
    }

    /// Whether an answer is arriving now.
    pub fn is_streaming(&self) -> bool {
        self.messages.iter().any(|m| m.status == Status::Streaming)
    }

    /// What to send to the model: finished messages with text, the last
    /// `limit` of them, starting with the user's.
    pub fn history(&self, limit: usize) -> Vec<ChatMessage> {
        let usable: Vec<&Message> = self
            .messages
            .iter()
            .filter(|m| !m.text.is_empty() && m.status != Status::Streaming)
            .collect();
        let mut start = usable.len().saturating_sub(limit);
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_bounded_and_starts_with_the_user() {
        let mut c = Conversation::default();
        for i in 0..5 {
            c.push(Role::User, format!("q{i}"), Status::Done);
            c.push(Role::Assistant, format!("a{i}"), Status::Done);
        }
        c.push(Role::User, "q5".into(), Status::Done);
        let history = c.history(4);
        let texts: Vec<&str> = history.iter().map(|m| m.content.as_str()).collect();
        // The last 4 are a3 q4 a4 q5; a leading answer is dropped.
        assert_eq!(texts, ["q4", "a4", "q5"]);
    }

    #[test]
    fn streaming_and_empty_answers_are_not_sent() {
        let mut c = Conversation::default();
        c.push(Role::User, "hi".into(), Status::Done);
        c.push(Role::Assistant, String::new(), Status::Streaming);
        assert!(c.is_streaming());
        assert_eq!(c.history(10).len(), 1);
    }

    #[test]
    fn ids_are_unique_and_messages_can_be_updated() {
        let mut c = Conversation::default();
        let a = c.push(Role::User, "a".into(), Status::Done);
        let b = c.push(Role::Assistant, String::new(), Status::Streaming);
        assert_ne!(a, b);
        let m = c.get_mut(b).unwrap();
        m.text = "done".into();
        m.status = Status::Done;
        assert!(!c.is_streaming());
    }
}
