//! Small wrappers over browser APIs the widget uses in several places.

use std::cell::Cell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortController;

/// Waits `ms` milliseconds (a `setTimeout` promise).
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// The page's clock, in milliseconds since the epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Logs an error for the page's developer.
pub fn console_error(message: &str) {
    web_sys::console::error_1(&JsValue::from_str(message));
}

/// Scrolls `element`, a scroller laid out from its end (`flex-direction:
/// column-reverse`, as the transcript's log is), to its end: that is its
/// scroll origin, `scrollTop` 0, and further up is negative.
pub fn scroll_to_end(element: &web_sys::Element) {
    element.set_scroll_top(0);
}

/// Copies `text` to the clipboard (best effort: the browser may refuse).
pub fn copy_text(text: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().clipboard().write_text(text);
    }
}

/// Aborts a request when no bytes have arrived for a while.
pub struct Watchdog {
    /// How many times bytes arrived.
    kicks: Rc<Cell<u32>>,
    fired: Rc<Cell<bool>>,
    interval: i32,
    _check: Closure<dyn FnMut()>,
}

impl std::fmt::Debug for Watchdog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watchdog")
            .field("fired", &self.fired.get())
            .finish()
    }
}

/// How many checks of silence make a stall: the watchdog fires between
/// `timeout_ms` and a quarter more after the last kick.
const QUIET_CHECKS: u32 = 4;

impl Watchdog {
    /// Aborts `controller` after about `timeout_ms` without a [`Watchdog::kick`].
    ///
    /// A kick is only a counter: each read of a stream used to clear and set
    /// a timer (three calls into the browser per token); now a check every
    /// quarter of the timeout sees whether the counter moved.
    pub fn new(controller: &AbortController, timeout_ms: u32) -> Self {
        let kicks = Rc::new(Cell::new(0));
        let fired = Rc::new(Cell::new(false));
        let check = {
            let (kicks, fired, controller) = (kicks.clone(), fired.clone(), controller.clone());
            let (mut seen, mut quiet) = (0, 0);
            Closure::new(move || {
                if kicks.get() != seen {
                    (seen, quiet) = (kicks.get(), 0);
                    return;
                }
                quiet += 1;
                if quiet == QUIET_CHECKS && !fired.get() {
                    fired.set(true);
                    controller.abort();
                }
            })
        };
        let period = (timeout_ms / QUIET_CHECKS).clamp(50, i32::MAX as u32) as i32;
        let interval = web_sys::window()
            .and_then(|w| {
                w.set_interval_with_callback_and_timeout_and_arguments_0(
                    check.as_ref().unchecked_ref(),
                    period,
                )
                .ok()
            })
            .unwrap_or(0);
        Watchdog {
            kicks,
            fired,
            interval,
            _check: check,
        }
    }

    /// Bytes arrived: start the wait again.
    pub fn kick(&self) {
        kick(&self.kicks);
    }

    /// [`Watchdog::kick`], for a callback that outlives the borrow.
    pub fn kicker(&self) -> impl Fn() + 'static {
        let kicks = self.kicks.clone();
        move || kick(&kicks)
    }

    /// Whether it gave up on the request.
    pub fn fired(&self) -> bool {
        self.fired.get()
    }
}

fn kick(kicks: &Cell<u32>) {
    kicks.set(kicks.get().wrapping_add(1));
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(window) = web_sys::window() {
            window.clear_interval_with_handle(self.interval);
        }
    }
}

/// A random id of ten base-36 characters, from `Math.random`: names for
/// conversations and the messages a page writes, not secrets.
pub fn random_id() -> String {
    let mut n = (js_sys::Math::random() * 3_656_158_440_062_976.0) as u64; // 36^10
    let mut id = String::with_capacity(10);
    for _ in 0..10 {
        let digit = (n % 36) as u8;
        id.push(char::from(if digit < 10 {
            b'0' + digit
        } else {
            b'a' + digit - 10
        }));
        n /= 36;
    }
    id
}
