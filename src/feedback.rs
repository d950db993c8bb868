//! The visitor's feedback on answers: thumbs up or down under each finished
//! answer, then an optional short reason. Kept with the message (so it shows
//! after a reload), told to the host page as a `feedback` event, and POSTed
//! to the host's `feedbackEndpoint` when it has one (the mint's
//! `feedback` route logs and counts it). The reason is the visitor's own
//! text: the widget shows it nowhere, and sends it only there.
//!
//! All of it is in the wasm chunk answers load ([`crate::chunk`]): the
//! panel reaches it only through [`rating`], [`act`] and
//! [`Chat::reason_key`], and a finished answer gets its rating buttons once
//! the chunk is in.

use ringside_wire::json;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element};

use crate::api;
use crate::chat::Chat;
use crate::conversation::Feedback;
use crate::strings::Strings;
use crate::transcript::{Action, button, element};

/// The longest reason kept, in characters.
pub const MAX_REASON: usize = 500;

impl Chat {
    /// The visitor rates the answer `id` (up or down); the panel then
    /// offers to say why. The rating given already changes nothing.
    pub fn rate(&self, id: u32, up: bool) {
        let same = self.read(|c| {
            c.get(id)
                .and_then(|m| m.feedback.as_ref())
                .is_some_and(|f| f.up == up)
        });
        if !same {
            self.give_feedback(id, |f| *f = Some(Feedback { up, reason: None }));
            self.tell_feedback(id, "{\"kind\":\"rating\",\"rating\":");
        }
    }

    /// The visitor says why (or, with an empty `reason`, declines to: the
    /// panel stops asking, and the host hears nothing new).
    pub fn explain(&self, id: u32, reason: &str) {
        let reason: String = reason.trim().chars().take(MAX_REASON).collect();
        let tell = !reason.is_empty();
        self.give_feedback(id, |f| {
            if let Some(f) = f {
                f.reason = Some(reason);
            }
        });
        if tell {
            self.tell_feedback(id, "{\"kind\":\"reason\",\"rating\":");
        }
    }

    fn give_feedback(&self, id: u32, change: impl FnOnce(&mut Option<Feedback>)) {
        self.edit(|c| {
            if let Some(m) = c.get_mut(id) {
                change(&mut m.feedback);
            }
        });
        self.store(&[id]);
    }

    /// The `feedback` event, and the POST to the host's endpoint: a new
    /// rating (`kind: "rating"`), or the reason for one (`"reason"`, the
    /// rating again beside it); `start` opens the JSON with the kind.
    fn tell_feedback(&self, id: u32, start: &str) {
        let body = self.read(|c| {
            let answer = c.get(id)?;
            let feedback = answer.feedback.as_ref()?;
            let question = c.question_of(id).and_then(|q| c.get(q));
            let mut body = String::from(start);
            body.push_str(if feedback.up { "\"up\"" } else { "\"down\"" });
            body.push_str(",\"reason\":");
            json::write_string(&mut body, feedback.reason.as_deref().unwrap_or(""));
            body.push_str(",\"message\":");
            json::write_string(&mut body, question.map_or("", |q| q.text.as_str()));
            body.push_str(",\"answer\":");
            json::write_string(&mut body, &answer.text);
            body.push_str(",\"messageId\":");
            json::write_string(&mut body, &answer.key);
            body.push_str(",\"conversationId\":");
            json::write_string(&mut body, &c.id);
            body.push('}');
            Some(body)
        });
        let Some(body) = body else {
            return;
        };
        if let Ok(detail) = js_sys::JSON::parse(&body) {
            self.emit("feedback", detail);
        }
        let (endpoint, credentials, headers) = self.with(|i| {
            let o = &i.options;
            (
                o.feedback_endpoint.clone(),
                o.token_credentials,
                o.token_headers.clone(),
            )
        });
        if let Some(endpoint) = endpoint {
            api::post_feedback(&endpoint, credentials, &headers, &body);
        }
    }

    /// A key in a rating's reason: Enter sends it, Escape declines to say
    /// (`true` when it was one of those, handled).
    pub fn reason_key(&self, event: &web_sys::KeyboardEvent) -> bool {
        let key = event.key();
        let input = crate::transcript::target_element(event)
            .filter(|t| t.tag_name() == "INPUT" && (key == "Enter" || key == "Escape"));
        let Some(input) = input else {
            return false;
        };
        event.prevent_default();
        event.stop_propagation();
        let id = input
            .closest("[data-id]")
            .ok()
            .flatten()
            .and_then(|m| m.get_attribute("data-id"))
            .and_then(|id| id.parse().ok());
        let reason = match key.as_str() {
            "Enter" => input.unchecked_into::<web_sys::HtmlInputElement>().value(),
            _ => String::new(),
        };
        if let Some(id) = id {
            self.explain(id, &reason);
        }
        true
    }
}

/// A click on a rating's button: Up, Down, or Send with the reason typed
/// in the field before it.
pub fn act(chat: Chat, action: Action, id: u32, button: &Element) {
    match action {
        Action::Up => chat.rate(id, true),
        Action::Down => chat.rate(id, false),
        Action::Explain => chat.explain(id, &reason_before(button)),
        _ => {}
    }
}

/// A finished answer's rating: the thumbs up and down in its `actions`
/// (pressed as `feedback` says); then, just rated, a field to say why
/// (Enter sends, Escape declines), or, once said, thanks.
pub fn rating(
    d: &Document,
    s: &Strings,
    feedback: Option<&Feedback>,
    actions: &Element,
    footer: &Element,
) {
    for (label, up, action) in [
        ("helpful", true, Action::Up),
        ("notHelpful", false, Action::Down),
    ] {
        let b = button(d, "rsc-action rsc-rate", "", Some(s.get(label)), action);
        if let Some(thumb) = thumb(d, up) {
            let _ = b.append_child(&thumb);
        }
        let pressed = feedback.is_some_and(|f| f.up == up);
        let _ = b.set_attribute("aria-pressed", if pressed { "true" } else { "false" });
        let _ = b.set_attribute("title", s.get(label));
        let _ = actions.append_child(&b);
    }
    match feedback.map(|f| f.reason.as_deref()) {
        Some(None) => {
            let form = element(d, "div", "rsc-feedback");
            let input = element(d, "input", "rsc-feedback__input");
            let max = MAX_REASON.to_string();
            for (name, value) in [
                ("aria-label", s.get("feedbackReason")),
                ("placeholder", s.get("feedbackReason")),
                ("maxlength", &max),
                ("dir", "auto"),
            ] {
                let _ = input.set_attribute(name, value);
            }
            let _ = form.append_child(&input);
            let _ = form.append_child(&button(
                d,
                "rsc-action",
                s.get("send"),
                None,
                Action::Explain,
            ));
            let _ = footer.append_child(&form);
        }
        Some(Some(reason)) if !reason.is_empty() => {
            let thanks = element(d, "p", "rsc-msg__status");
            let _ = thanks.set_attribute("role", "status");
            thanks.set_text_content(Some(s.get("thanks")));
            let _ = footer.append_child(&thanks);
        }
        _ => {}
    }
}

/// A thumb, up or down, drawn in the text's colour: an emoji would need an
/// emoji font, which some systems lack (they show an empty box).
fn thumb(d: &Document, up: bool) -> Option<Element> {
    const SVG: &str = "http://www.w3.org/2000/svg";
    /// A cuff and a hand with its thumb up, on a 24 by 24 grid.
    const THUMB_UP: &str = "M2 10h4v11H2zM6 10l4-8c1.4 0 2.6 1.2 2.4 2.6L11.8 9H19a2 2 0 0 1 \
                            2 2.3l-1.3 7.5A2.6 2.6 0 0 1 17.1 21H6";
    let svg = d.create_element_ns(Some(SVG), "svg").ok()?;
    for (name, value) in [
        ("viewBox", "0 0 24 24"),
        ("width", "14"),
        ("height", "14"),
        ("aria-hidden", "true"),
        // Presentation attributes: the panel's CSS (in the main module) has
        // no rule for the chunk's icons.
        ("display", "block"),
        ("fill", "none"),
        ("stroke", "currentColor"),
        ("stroke-width", "2"),
        ("stroke-linecap", "round"),
        ("stroke-linejoin", "round"),
    ] {
        let _ = svg.set_attribute(name, value);
    }
    let path = d.create_element_ns(Some(SVG), "path").ok()?;
    let _ = path.set_attribute("d", THUMB_UP);
    if !up {
        let _ = path.set_attribute("transform", "rotate(180 12 12)");
    }
    let _ = svg.append_child(&path);
    Some(svg)
}

/// The reason typed in the field before a rating's Send button.
fn reason_before(button: &Element) -> String {
    button
        .previous_element_sibling()
        .map(|input| input.unchecked_into::<web_sys::HtmlInputElement>().value())
        .unwrap_or_default()
}
