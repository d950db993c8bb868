//! The conversation: what was said, by whom, and how each message stands.
//! Plain data, no DOM, so its rules are unit-tested natively.
//!
//! Messages are kept one by one (see [`crate::storage`]): each has a `key`
//! unique across the tabs and page loads of a browser, and a place in the
//! conversation (`at`, when its question was asked, then that question's
//! key), so the messages several tabs wrote come out in the same order in
//! every tab, each answer right after its question.

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
    /// An answer that broke off; its text so far is kept, and it can be
    /// continued (when it has text) or retried.
    Interrupted(String),
    /// A question the gateway refused before answering; it can be retried.
    NotSent(String),
    /// An answer another tab of this browser is receiving (shared storage).
    Elsewhere,
}

/// The visitor's rating of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feedback {
    /// Thumbs up (or down).
    pub up: bool,
    /// Why, in their words; `None` while the panel still offers to ask.
    pub reason: Option<String>,
}

/// One message of the transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Unique within this page's conversation; the key of its DOM node.
    pub id: u32,
    /// Who wrote it.
    pub role: Role,
    /// Its text. For a streaming answer the text so far lives in the
    /// stream's buffer, and lands here when it ends.
    pub text: String,
    /// How it stands.
    pub status: Status,
    /// What storage, other tabs and the server thread know it by.
    pub key: String,
    /// When its question was asked, in milliseconds since the epoch.
    pub at: u64,
    /// The key of its question (its own, for a question).
    pub question: String,
    /// The visitor's rating, for an answer.
    pub feedback: Option<Feedback>,
}

impl Message {
    /// Where it goes: by question time, then question, the question first.
    fn place(&self) -> (u64, &str, bool) {
        (self.at, &self.question, self.role == Role::Assistant)
    }
}

/// The messages of one conversation, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conversation {
    messages: Vec<Message>,
    next_id: u32,
    /// Tells conversations apart: a new one after "New conversation", so a
    /// message another tab wrote for the old one is not shown in it.
    pub id: String,
    /// What the keys of the messages written by this page start with.
    pub writer: String,
}

impl Conversation {
    /// An empty conversation `id`, whose new messages' keys start with `writer`.
    pub fn new(id: String, writer: String) -> Self {
        Conversation {
            id,
            writer,
            ..Conversation::default()
        }
    }

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

    /// The message whose key is `key`.
    pub fn find(&self, key: &str) -> Option<&Message> {
        self.messages.iter().find(|m| m.key == key)
    }

    /// A new key for a message of this page.
    fn new_key(&self) -> String {
        let mut key = self.writer.clone();
        json::write_u64(&mut key, u64::from(self.next_id));
        key
    }

    /// Adds a message at the end and returns its id.
    pub fn push(&mut self, role: Role, text: String, status: Status) -> u32 {
        let key = self.new_key();
        let (at, question) = match (role, self.messages.last()) {
            (Role::Assistant, Some(last)) => (last.at, last.question.clone()),
            (_, last) => (last.map_or(0, |m| m.at + 1), key.clone()),
        };
        self.insert(Message {
            id: 0,
            role,
            text,
            status,
            key,
            at,
            question,
            feedback: None,
        })
    }

    /// The user asks `text` at `at` (ms since the epoch); returns its id.
    pub fn ask(&mut self, text: String, at: u64) -> u32 {
        let key = self.new_key();
        self.insert(Message {
            id: 0,
            role: Role::User,
            text,
            status: Status::Done,
            question: key.clone(),
            key,
            at,
            feedback: None,
        })
    }

    /// Adds an answer to the question `question`, right after it.
    pub fn reply(&mut self, question: u32, text: String, status: Status) -> Option<u32> {
        let (at, key) = self.get(question).map(|q| (q.at, q.key.clone()))?;
        Some(self.insert(Message {
            id: 0,
            role: Role::Assistant,
            text,
            status,
            key: self.new_key(),
            at,
            question: key,
            feedback: None,
        }))
    }

    /// Puts `message` in its place (see [`Message`]'s `at`) with a new id, returned.
    pub fn insert(&mut self, mut message: Message) -> u32 {
        message.id = self.next_id;
        self.next_id += 1;
        let at = self
            .messages
            .iter()
            .position(|m| m.place() > message.place())
            .unwrap_or(self.messages.len());
        let id = message.id;
        self.messages.insert(at, message);
        id
    }

    /// Takes over `stored` (a conversation read from storage or a server
    /// thread): its id and thread, and its messages that are not here yet,
    /// each in its place. Returns the ids the new messages got.
    pub fn adopt(&mut self, stored: Conversation) -> std::ops::Range<u32> {
        let first = self.next_id;
        self.id = stored.id;
        for message in stored.messages {
            if self.find(&message.key).is_none() {
                self.insert(message);
            }
        }
        first..self.next_id
    }

    /// Makes it a new, empty conversation `id`. Ids go on from where they
    /// were: the panel may show the old messages until it next runs, and
    /// must not take a new message for an old one of the same id.
    pub fn restart(&mut self, id: String) {
        self.messages.clear();
        self.id = id;
    }

    /// Removes the messages whose ids `gone` names (ids go on from where they were).
    pub fn drop_where(&mut self, gone: &dyn Fn(u32) -> bool) {
        self.messages.retain(|m| !gone(m.id));
    }

    /// Removes the message with `id`.
    pub fn remove(&mut self, id: u32) {
        self.messages.retain(|m| m.id != id);
    }

    /// Whether an answer is arriving in this page now.
    pub fn is_streaming(&self) -> bool {
        self.messages.iter().any(|m| m.status == Status::Streaming)
    }

    /// Whether an answer is arriving, here or in another tab.
    pub fn is_arriving(&self) -> bool {
        self.is_streaming() || self.messages.iter().any(|m| m.status == Status::Elsewhere)
    }

    /// The id of the last answer, if the conversation ends with one that is
    /// not arriving: the one "Regenerate" replaces.
    pub fn last_answer(&self) -> Option<u32> {
        match self.messages.last() {
            Some(m)
                if m.role == Role::Assistant
                    && !matches!(m.status, Status::Streaming | Status::Elsewhere) =>
            {
                Some(m.id)
            }
            _ => None,
        }
    }

    /// The question an answer replies to.
    pub fn question_of(&self, answer: u32) -> Option<u32> {
        let answer = self.get(answer)?;
        self.find(&answer.question)
            .filter(|q| q.role == Role::User)
            .map(|q| q.id)
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

    /// What is stored of the conversation besides its messages: its id.
    pub fn meta_json(&self) -> String {
        let mut out = String::from("{\"v\":3,\"c\":");
        json::write_string(&mut out, &self.id);
        out.push('}');
        out
    }

    /// The id of a stored conversation (another format: `None`).
    pub fn from_meta(text: &str) -> Option<String> {
        let value = json::parse(text).ok()?;
        if value.get("v").and_then(Value::as_u64) != Some(3) {
            return None;
        }
        Some(value.get("c")?.as_str()?.to_string())
    }
}

/// A stored answer that says it is arriving in another tab, but that tab
/// has not written it for this long: the tab is gone.
pub const GONE_AFTER_MS: u64 = 45_000;

impl Message {
    /// The message as stored, for conversation `conversation`, written at
    /// `now` (an answer arriving here is stored as arriving, with its text so far).
    pub fn to_json(&self, conversation: &str, now: u64) -> String {
        let mut out = String::from("{\"c\":");
        json::write_string(&mut out, conversation);
        out.push_str(if self.role == Role::User {
            ",\"r\":\"user\",\"x\":"
        } else {
            ",\"r\":\"assistant\",\"x\":"
        });
        json::write_string(&mut out, &self.text);
        let (status, reason) = match &self.status {
            Status::Done => ("done", None),
            Status::Stopped => ("stopped", None),
            Status::Streaming | Status::Elsewhere => ("streaming", None),
            Status::Interrupted(reason) => ("interrupted", Some(reason)),
            Status::NotSent(reason) => ("not_sent", Some(reason)),
        };
        out.push_str(",\"s\":\"");
        out.push_str(status);
        out.push('"');
        if let Some(reason) = reason {
            out.push_str(",\"why\":");
            json::write_string(&mut out, reason);
        }
        out.push_str(",\"at\":");
        json::write_u64(&mut out, self.at);
        out.push_str(",\"u\":");
        json::write_u64(&mut out, now);
        out.push_str(",\"q\":");
        json::write_string(&mut out, &self.question);
        if let Some(feedback) = &self.feedback {
            out.push_str(if feedback.up {
                ",\"f\":\"up\""
            } else {
                ",\"f\":\"down\""
            });
            if let Some(reason) = &feedback.reason {
                out.push_str(",\"fr\":");
                json::write_string(&mut out, reason);
            }
        }
        out.push('}');
        out
    }

    /// A stored message of key `key`, and the conversation it belongs to;
    /// `None` if the text is not one (a foreign format is dropped, not
    /// trusted). An answer still arriving in a tab that wrote it longer
    /// than [`GONE_AFTER_MS`] before `now` comes back interrupted, `closed`.
    pub fn from_json(key: &str, text: &str, now: u64, closed: &str) -> Option<(String, Message)> {
        let value = json::parse(text).ok()?;
        let role = match value.get("r")?.as_str()? {
            "user" => Role::User,
            "assistant" => Role::Assistant,
            _ => return None,
        };
        let field = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_string);
        let reason = || field("why").unwrap_or_default();
        let written = value.get("u").and_then(Value::as_u64).unwrap_or(0);
        let status = match value.get("s")?.as_str()? {
            "done" => Status::Done,
            "stopped" => Status::Stopped,
            "streaming" if now.saturating_sub(written) < GONE_AFTER_MS => Status::Elsewhere,
            "streaming" => Status::Interrupted(closed.to_string()),
            "interrupted" => Status::Interrupted(reason()),
            "not_sent" => Status::NotSent(reason()),
            _ => return None,
        };
        let feedback = field("f").map(|f| Feedback {
            up: f == "up",
            reason: Some(field("fr").unwrap_or_default()),
        });
        let message = Message {
            id: 0,
            role,
            text: field("x")?,
            status,
            key: key.to_string(),
            at: value.get("at")?.as_u64()?,
            question: field("q")?,
            feedback,
        };
        Some((field("c")?, message))
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

    fn shown(c: &Conversation) -> Vec<&str> {
        c.messages().iter().map(|m| m.text.as_str()).collect()
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
        c.push(Role::Assistant, "other tab".into(), Status::Elsewhere);
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

    /// Issue 17: two tabs ask at the same moment; every tab shows the four
    /// messages in the same order, each answer right after its question,
    /// whichever order they arrived in.
    #[test]
    fn messages_of_several_tabs_take_the_same_places_in_every_tab() {
        let mut a = Conversation::new("c".into(), "a.".into());
        let mut b = Conversation::new("c".into(), "b.".into());
        let qa = a.ask("from a".into(), 1_000);
        let aa = a.reply(qa, "answer a".into(), Status::Streaming).unwrap();
        let qb = b.ask("from b".into(), 1_000);
        let ab = b.reply(qb, "answer b".into(), Status::Streaming).unwrap();
        let copy = |from: &Conversation, id: u32, to: &mut Conversation| {
            to.insert(from.get(id).unwrap().clone());
        };
        copy(&b, ab, &mut a);
        copy(&b, qb, &mut a);
        copy(&a, qa, &mut b);
        copy(&a, aa, &mut b);
        assert_eq!(shown(&a), ["from a", "answer a", "from b", "answer b"]);
        assert_eq!(shown(&a), shown(&b));
        let later = b.ask("later".into(), 2_000);
        assert_eq!(b.messages().last().unwrap().id, later);
        let answer_b = a.messages()[3].id;
        assert_eq!(
            a.get(a.question_of(answer_b).unwrap()).unwrap().text,
            "from b"
        );
    }

    #[test]
    fn a_stored_conversation_goes_before_what_was_asked_meanwhile() {
        let mut stored = Conversation::new("old".into(), "x.".into());
        let q = stored.ask("old q".into(), 100);
        stored.reply(q, "old a".into(), Status::Done);
        let mut c = Conversation::new("new".into(), "w.".into());
        let q = c.ask("new q".into(), 200);
        let a = c.reply(q, String::new(), Status::Streaming).unwrap();
        let restored = c.adopt(stored.clone());
        assert_eq!(shown(&c), ["old q", "old a", "new q", ""]);
        assert_eq!(c.id, "old", "the stored conversation goes on");
        assert_eq!(c.question_of(a), Some(q));
        assert_eq!(restored.len(), 2);
        assert!(
            restored
                .clone()
                .all(|id| c.get(id).is_some_and(|m| m.text.starts_with("old")))
        );
        assert!(
            c.adopt(stored).is_empty(),
            "a message already here is not added twice"
        );
    }

    /// A new conversation in the same page never reuses an id or a key: the
    /// panel (which may not have run in between) and the threads know
    /// messages by them.
    #[test]
    fn a_new_conversation_goes_on_with_new_ids_and_keys() {
        let mut c = Conversation::new("one".into(), "w.".into());
        let q = c.ask("old".into(), 1);
        let key = c.get(q).unwrap().key.clone();
        c.restart("two".into());
        assert!(c.messages().is_empty());
        let q2 = c.ask("new".into(), 2);
        assert_ne!(q2, q);
        assert_ne!(c.get(q2).unwrap().key, key);
        assert_eq!(c.id, "two");
    }

    #[test]
    fn a_message_survives_storage_and_an_abandoned_stream_comes_back_interrupted() {
        let mut c = Conversation::new("c1".into(), "w.".into());
        let q = c.ask("hé \"quoted\"\n<b>".into(), 1_700_000_000_000);
        let a = c.reply(q, "partial".into(), Status::Streaming).unwrap();
        c.get_mut(a).unwrap().feedback = Some(Feedback {
            up: false,
            reason: Some("too \"short\"".into()),
        });
        let n = c.ask("later".into(), 1_700_000_000_500);
        c.get_mut(n).unwrap().status = Status::NotSent("Too many".into());
        let round = |id: u32, now: u64| {
            let m = c.get(id).unwrap();
            let (conversation, back) =
                Message::from_json(&m.key, &m.to_json(&c.id, 10), now, "gone").unwrap();
            assert_eq!(conversation, "c1");
            back
        };
        let question = c.get(q).unwrap();
        assert_eq!(
            round(q, 10),
            Message {
                id: 0,
                ..question.clone()
            }
        );
        let answer = round(a, 20);
        assert_eq!(answer.status, Status::Elsewhere, "another tab streams it");
        assert_eq!(answer.feedback, c.get(a).unwrap().feedback);
        assert_eq!(
            round(a, 10 + GONE_AFTER_MS).status,
            Status::Interrupted("gone".into()),
            "its tab stopped writing it long ago"
        );
        assert_eq!(round(n, 10).status, Status::NotSent("Too many".into()));
        assert_eq!(Message::from_json("k", "{\"v\":2}", 0, ""), None);
        assert_eq!(Message::from_json("k", "garbage", 0, ""), None);
        let meta = Conversation::from_meta(&c.meta_json());
        assert_eq!(meta, Some("c1".to_string()));
        assert_eq!(
            Conversation::from_meta("{\"v\":1}"),
            None,
            "another format is not trusted"
        );
    }
}
