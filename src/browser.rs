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

/// Copies `text` to the clipboard (best effort: the browser may refuse).
pub fn copy_text(text: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().clipboard().write_text(text);
    }
}

/// Aborts a request when no bytes have arrived for a while.
pub struct Watchdog {
    timeout_ms: i32,
    handle: Cell<i32>,
    fired: Rc<Cell<bool>>,
    on_timeout: Closure<dyn FnMut()>,
}

impl std::fmt::Debug for Watchdog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watchdog")
            .field("fired", &self.fired.get())
            .finish()
    }
}

impl Watchdog {
    /// Aborts `controller` after `timeout_ms` without a [`Watchdog::kick`].
    pub fn new(controller: &AbortController, timeout_ms: u32) -> Self {
        let fired = Rc::new(Cell::new(false));
        let on_timeout = {
            let (fired, controller) = (fired.clone(), controller.clone());
            Closure::new(move || {
                fired.set(true);
                controller.abort();
            })
        };
        let dog = Watchdog {
            timeout_ms: timeout_ms.min(i32::MAX as u32) as i32,
            handle: Cell::new(0),
            fired,
            on_timeout,
        };
        dog.kick();
        dog
    }

    /// Bytes arrived: start the wait again.
    pub fn kick(&self) {
        let Some(window) = web_sys::window() else {
            return;
        };
        window.clear_timeout_with_handle(self.handle.get());
        let handle = window
            .set_timeout_with_callback_and_timeout_and_arguments_0(
                self.on_timeout.as_ref().unchecked_ref(),
                self.timeout_ms,
            )
            .unwrap_or(0);
        self.handle.set(handle);
    }

    /// Whether it gave up on the request.
    pub fn fired(&self) -> bool {
        self.fired.get()
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(window) = web_sys::window() {
            window.clear_timeout_with_handle(self.handle.get());
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
