//! The transcript's DOM, kept in step with the [`Conversation`] by one
//! effect: messages are added, removed and re-labelled in place, never
//! re-rendered. Answers paint themselves through their [`StreamView`]; the
//! user's words are text nodes. Buttons carry a `data-action`, handled by one
//! listener on the panel.
//!
//! This is plain DOM work rather than Leptos views: per message, a keyed list
//! of components cost the widget about a third of its weight, and the
//! transcript's updates are few and known (a message added, a status changed).

use std::rc::Rc;

use ringside_wire::chat::Role;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element};

use crate::chunk;
use crate::conversation::{Conversation, Feedback, Message, Status};
use crate::render::{PaintHook, StreamView};
use crate::strings::Strings;

/// Declares [`Action`] from one list of `Variant = "its data-action"`, so
/// that [`Action::name`] and [`Action::parse`] cannot miss a variant.
macro_rules! actions {
    ($($(#[doc = $doc:literal])* $variant:ident = $name:literal,)+) => {
        /// What a button of the panel does: the value of its `data-action`,
        /// written by the panel's view, the transcript and the Markdown's
        /// code blocks, and read back by the panel's one click listener. To
        /// add a button, add a line to the list below, give the button
        /// `data-action=Action::Yours.name()`, and handle it in the panel's
        /// `click` (whose `match` names every action).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Action {
            $($(#[doc = $doc])* $variant,)+
        }

        impl Action {
            /// Every action.
            #[cfg(test)]
            const ALL: &'static [Action] = &[$(Action::$variant,)+];

            /// The value of `data-action` for this action.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)+
                }
            }

            /// The action a `data-action` value names.
            pub fn parse(name: &str) -> Option<Action> {
                match name {
                    $($name => Some(Action::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

actions! {
    /// Copy a message's text.
    Copy = "copy",
    /// Ask again for the last answer.
    Regenerate = "regenerate",
    /// Send again a question that was not sent, or ask again an interrupted answer.
    Retry = "retry",
    /// Copy a code block.
    CopyCode = "copy-code",
    /// Send a suggested question.
    Suggest = "suggest",
    /// Start a new conversation (the panel's header).
    NewConversation = "new-conversation",
    /// Close the panel (the panel's header).
    Close = "close",
    /// Scroll to the newest text.
    Jump = "jump",
    /// Stop the answer being streamed.
    Stop = "stop",
    /// Continue an answer that broke off, from where it stopped.
    Continue = "continue",
    /// Rate an answer up.
    Up = "up",
    /// Rate an answer down.
    Down = "down",
    /// Send the reason for a rating (the field before the button).
    Explain = "explain",
}

impl Action {
    /// The attribute that names a button's action.
    pub const ATTRIBUTE: &'static str = "data-action";
    /// The selector of the elements that have one.
    const SELECTOR: &'static str = "[data-action]";
    /// The attribute of a message's `article` that holds its id.
    pub const MESSAGE_ID: &'static str = "data-id";
    /// The selector of the elements that have one.
    const MESSAGE_SELECTOR: &'static str = "[data-id]";

    /// The action of a clicked element, and the message it belongs to.
    pub fn of(target: &Element) -> Option<(Action, Option<u32>, Element)> {
        let button = target.closest(Action::SELECTOR).ok()??;
        let action = Action::parse(&button.get_attribute(Action::ATTRIBUTE)?)?;
        let id = button
            .closest(Action::MESSAGE_SELECTOR)
            .ok()
            .flatten()
            .and_then(|m| m.get_attribute(Action::MESSAGE_ID))
            .and_then(|id| id.parse().ok());
        Some((action, id, button))
    }
}

pub(crate) fn element(document: &Document, tag: &str, class: &str) -> Element {
    let element = document.create_element(tag).expect("a known tag name");
    element.set_class_name(class);
    element
}

pub(crate) fn button(
    document: &Document,
    class: &str,
    text: &str,
    label: Option<&str>,
    action: Action,
) -> Element {
    let b = element(document, "button", class);
    let _ = b.set_attribute("type", "button");
    let _ = b.set_attribute(Action::ATTRIBUTE, action.name());
    if let Some(label) = label {
        let _ = b.set_attribute("aria-label", label);
    }
    b.set_text_content(Some(text));
    b
}

/// What a message's footer shows; rebuilt only when this changes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Footer {
    status: Status,
    last_answer: bool,
    /// The visitor's rating, for an answer.
    feedback: Option<Feedback>,
    /// An answer that broke off with text to continue from, once the
    /// chunk that continues it is in.
    continuable: bool,
    /// A finished answer with text, once the chunk that rates it is in.
    rating: bool,
}

/// One message's elements in the log, and what its footer shows.
struct MessageDom {
    id: u32,
    article: Element,
    footer: Element,
    state: Footer,
}

/// The transcript's DOM inside the log element.
pub struct Transcript {
    log: Element,
    document: Document,
    strings: Strings,
    welcome: String,
    suggestions: Vec<String>,
    shown: Vec<MessageDom>,
    welcome_node: Option<Element>,
    /// The log's one child, which holds the messages: the log lays it out
    /// from its end (`column-reverse`, see widget.css), so a reader at the
    /// end stays there as it grows, with no scrolling at all.
    content: Element,
    before_paint: PaintHook,
    to_end: Rc<dyn Fn()>,
}

impl std::fmt::Debug for Transcript {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transcript")
            .field("messages", &self.shown.len())
            .finish()
    }
}

impl Transcript {
    /// A transcript painting into `log`; `before_paint` runs before an
    /// answer paints new text, `to_end` takes the reader to the log's end.
    pub fn new(
        log: Element,
        strings: Strings,
        welcome: String,
        suggestions: Vec<String>,
        before_paint: PaintHook,
        to_end: Rc<dyn Fn()>,
    ) -> Self {
        let document = log.owner_document().expect("the log is in a document");
        let content = element(&document, "div", "rsc-log__content");
        let _ = log.append_child(&content);
        Transcript {
            log,
            document,
            strings,
            welcome,
            suggestions,
            shown: Vec::new(),
            welcome_node: None,
            content,
            before_paint,
            to_end,
        }
    }

    /// Brings the DOM in step with `conversation`; `stream_of` gives the
    /// painter of each answer.
    pub fn sync(
        &mut self,
        conversation: &Conversation,
        stream_of: &dyn Fn(u32) -> Option<StreamView>,
    ) {
        let messages = conversation.messages();
        let last_answer = conversation.last_answer();
        let _ = self.log.set_attribute(
            "aria-busy",
            if conversation.is_arriving() {
                "true"
            } else {
                "false"
            },
        );

        // Gone messages (a retried answer, a new conversation).
        self.shown.retain(|shown| {
            let keep = messages.iter().any(|m| m.id == shown.id);
            if !keep {
                shown.article.remove();
            }
            keep
        });
        let mut added = false;
        for (at, message) in messages.iter().enumerate() {
            let state = Footer {
                status: message.status.clone(),
                last_answer: last_answer == Some(message.id),
                feedback: message.feedback.clone(),
                // Continuing is in the answers chunk: Retry until it is in.
                continuable: matches!(message.status, Status::Interrupted(_))
                    && !message.text.is_empty()
                    && chunk::get().is_some(),
                rating: message.role == Role::Assistant
                    && matches!(message.status, Status::Done | Status::Stopped)
                    && !message.text.is_empty()
                    && chunk::get().is_some(),
            };
            match self.shown.iter().position(|s| s.id == message.id) {
                Some(i) if self.shown[i].state == state => {}
                Some(i) => {
                    let footer = self.footer(message, &state);
                    // A footer changes the log's height as a paint does.
                    let after = (self.before_paint)();
                    let shown = &mut self.shown[i];
                    // Keyboard users stay where they were: in the reason's
                    // field, or on the rating they gave.
                    let focused = shown.footer.matches(":focus-within").unwrap_or(false);
                    let _ = shown.footer.replace_with_with_node_1(&footer);
                    let target = ["input", "[aria-pressed=true]"]
                        .iter()
                        .find_map(|s| footer.query_selector(s).ok().flatten());
                    if let (true, Some(target)) = (focused, target) {
                        let _ = target.unchecked_ref::<web_sys::HtmlElement>().focus();
                    }
                    shown.footer = footer;
                    shown.state = state;
                    if let Some(after) = after {
                        after();
                    }
                }
                None => {
                    // Usually the newest; a stored conversation restored
                    // once the token arrived goes before what was asked meanwhile.
                    let next = messages[at + 1..]
                        .iter()
                        .find_map(|m| self.shown.iter().position(|s| s.id == m.id));
                    let before = next.map(|i| self.shown[i].article.clone());
                    let shown = self.add(message, state, stream_of(message.id), before);
                    self.shown.insert(next.unwrap_or(self.shown.len()), shown);
                    added = true;
                }
            }
        }
        self.show_welcome(messages.is_empty());
        if added {
            // A new question (or a restored conversation): show the latest.
            (self.to_end)();
        }
    }

    fn add(
        &self,
        message: &Message,
        state: Footer,
        stream: Option<StreamView>,
        before: Option<Element>,
    ) -> MessageDom {
        let user = message.role == Role::User;
        let article = element(
            &self.document,
            "article",
            if user {
                "rsc-msg rsc-msg--user"
            } else {
                "rsc-msg rsc-msg--assistant"
            },
        );
        let _ = article.set_attribute(
            "aria-label",
            self.strings.get(if user { "you" } else { "assistant" }),
        );
        let _ = article.set_attribute(Action::MESSAGE_ID, &message.id.to_string());
        let body = element(&self.document, "div", "rsc-msg__body");
        // Each message takes its own direction from its text: an English
        // answer in an Arabic page reads left to right, and the other way.
        let _ = body.set_attribute("dir", "auto");
        let _ = article.append_child(&body);
        let footer = self.footer(message, &state);
        let _ = article.append_child(&footer);
        let _ = self.content.insert_before(&article, before.as_deref());
        match stream {
            Some(stream) => stream.attach(&body, self.before_paint.clone()),
            // The user's own words, shown exactly as typed.
            None => body.set_text_content(Some(&message.text)),
        }
        MessageDom {
            id: message.id,
            article,
            footer,
            state,
        }
    }

    /// A message's status line and actions.
    fn footer(&self, message: &Message, state: &Footer) -> Element {
        let d = &self.document;
        let s = &self.strings;
        let footer = element(d, "div", "rsc-msg__footer");
        let status_line = |class: &str, text: String, retry: bool| {
            let p = element(d, "p", class);
            p.set_text_content(Some(&text));
            if retry {
                let mut actions = vec![("retry", Action::Retry)];
                if state.continuable {
                    actions.insert(0, ("continue", Action::Continue));
                }
                for (label, action) in actions {
                    let _ = p.append_child(&d.create_text_node(" "));
                    let _ =
                        p.append_child(&button(d, "rsc-link-button", s.get(label), None, action));
                }
            }
            p
        };
        match &state.status {
            Status::Streaming | Status::Elsewhere => {
                let typing = element(d, "span", "rsc-typing");
                let _ = typing.set_attribute("role", "status");
                let label = element(d, "span", "rsc-sr");
                label.set_text_content(Some(s.get(match state.status {
                    Status::Elsewhere => "elsewhere",
                    _ => "typing",
                })));
                let _ = typing.append_child(&label);
                for _ in 0..3 {
                    let dot = element(d, "span", "rsc-typing__dot");
                    let _ = dot.set_attribute("aria-hidden", "true");
                    let _ = typing.append_child(&dot);
                }
                let _ = footer.append_child(&typing);
            }
            Status::Stopped => {
                let _ = footer.append_child(&status_line(
                    "rsc-msg__status",
                    s.get("stopped").to_string(),
                    false,
                ));
            }
            Status::Interrupted(reason) => {
                let _ = footer.append_child(&status_line(
                    "rsc-msg__status rsc-msg__status--error",
                    reason.clone(),
                    true,
                ));
            }
            Status::NotSent(reason) => {
                let text = format!("{} {reason}", s.get("notSent"));
                let _ = footer.append_child(&status_line(
                    "rsc-msg__status rsc-msg__status--error",
                    text,
                    true,
                ));
            }
            Status::Done => {}
        }
        if message.role == Role::Assistant
            && !matches!(state.status, Status::Streaming | Status::Elsewhere)
        {
            let actions = element(d, "div", "rsc-msg__actions");
            let _ = actions.append_child(&button(
                d,
                "rsc-action",
                s.get("copy"),
                Some(s.get("copyMessage")),
                Action::Copy,
            ));
            if state.last_answer {
                let _ = actions.append_child(&button(
                    d,
                    "rsc-action",
                    s.get("regenerate"),
                    Some(s.get("regenerateAnswer")),
                    Action::Regenerate,
                ));
            }
            let _ = footer.append_child(&actions);
            if state.rating
                && let Some(chunk) = chunk::get()
            {
                (chunk.rating)(d, s, state.feedback.as_ref(), &actions, &footer);
            }
        }
        footer
    }

    /// The welcome and its suggestions, while the conversation is empty.
    fn show_welcome(&mut self, empty: bool) {
        match (empty, &self.welcome_node) {
            (true, None) => {
                let d = &self.document;
                let welcome = element(d, "div", "rsc-welcome");
                let text = element(d, "p", "rsc-msg rsc-msg--assistant rsc-welcome__text");
                text.set_text_content(Some(&self.welcome));
                let _ = welcome.append_child(&text);
                let list = element(d, "div", "rsc-suggestions");
                for suggestion in &self.suggestions {
                    let _ = list.append_child(&button(
                        d,
                        "rsc-suggestion",
                        suggestion,
                        None,
                        Action::Suggest,
                    ));
                }
                let _ = welcome.append_child(&list);
                let _ = self.content.prepend_with_node_1(&welcome);
                self.welcome_node = Some(welcome);
            }
            (false, Some(node)) => {
                node.remove();
                self.welcome_node = None;
            }
            _ => {}
        }
    }
}

/// The element an event happened on, as an `Element`.
pub fn target_element(event: &web_sys::Event) -> Option<Element> {
    event.target()?.dyn_into().ok()
}

#[cfg(test)]
mod tests {
    // The same tests run in headless Chromium: `cargo xtask test` (wasm-bindgen-test).
    use super::*;
    use crate::markdown::tree::{Attr, Node, block};
    use crate::markdown::{Block, Refs};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn every_action_reads_back_from_its_name_and_no_two_share_one() {
        for &action in Action::ALL {
            assert_eq!(Action::parse(action.name()), Some(action));
        }
        let mut names: Vec<_> = Action::ALL.iter().map(|a| a.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Action::ALL.len(), "{names:?}");
        assert_eq!(Action::parse("Copy"), None);
        assert_eq!(Action::SELECTOR, format!("[{}]", Action::ATTRIBUTE));
        assert_eq!(
            Action::MESSAGE_SELECTOR,
            format!("[{}]", Action::MESSAGE_ID)
        );
    }

    /// The Markdown's code blocks write their copy button's action as text
    /// (the tree only knows attributes); it must name [`Action::CopyCode`].
    #[test]
    fn a_code_blocks_copy_button_names_the_copy_code_action() {
        fn actions(node: &Node, out: &mut Vec<String>) {
            if let Node::Element {
                attrs, children, ..
            } = node
            {
                out.extend(
                    attrs
                        .iter()
                        .filter(|(attr, _)| *attr == Attr::Action)
                        .map(|(_, value)| value.clone()),
                );
                children.iter().for_each(|child| actions(child, out));
            }
        }
        let code = Block::Code {
            lang: "sh".into(),
            text: "ls\n".into(),
        };
        let mut found = Vec::new();
        actions(&block(&code, &Refs::default()), &mut found);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(Action::parse(&found[0]), Some(Action::CopyCode));
    }
}
