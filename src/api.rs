//! Talking to the host's mint route and to Ringside from the browser:
//! fetch a token, then stream a completion through the fetch `ReadableStream`
//! (read in a worker where the page allows, `js/stream-batches.js`) and the
//! shared SSE parser.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Promise, Uint8Array};
use ringside_wire::chat::{AnswerDecoder, StreamFrame, StreamRequest};
use ringside_wire::token::TokenResponse;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, RequestCredentials, RequestInit, Response};

use crate::browser::Watchdog;
use crate::error::ChatError;
use crate::options::Credentials;
use crate::token::Token;

fn network(url: &str, error: &JsValue) -> ChatError {
    ChatError::Network {
        url: url.to_string(),
        detail: js_error(error),
    }
}

/// `fetch(url, {method: "POST", headers, body, signal, credentials})`, resolved to the response.
async fn post(
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
    signal: Option<&AbortSignal>,
    credentials: RequestCredentials,
) -> Result<Response, ChatError> {
    let response = JsFuture::from(send(url, headers, body, signal, credentials)?)
        .await
        .map_err(|e| network(url, &e))?;
    Ok(response.unchecked_into())
}

/// `fetch(url, {method: "POST", headers, body, signal, credentials})`: the
/// promise of the response.
fn send(
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
    signal: Option<&AbortSignal>,
    credentials: RequestCredentials,
) -> Result<js_sys::Promise, ChatError> {
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_credentials(credentials);
    let header_map = web_sys::Headers::new().map_err(|e| network(url, &e))?;
    for (name, value) in headers {
        header_map
            .append(name, value)
            .map_err(|e| network(url, &e))?;
    }
    init.set_headers(&header_map);
    init.set_body(&JsValue::from_str(body));
    if let Some(signal) = signal {
        init.set_signal(Some(signal));
    }
    let window = web_sys::window().ok_or_else(|| network(url, &JsValue::from_str("no window")))?;
    Ok(window.fetch_with_str_and_init(url, &init))
}

async fn text_of(url: &str, response: &Response) -> Result<String, ChatError> {
    let promise = response.text().map_err(|e| network(url, &e))?;
    let text = JsFuture::from(promise)
        .await
        .map_err(|e| network(url, &e))?;
    Ok(text.as_string().unwrap_or_default())
}

async fn error_of(url: &str, response: &Response) -> ChatError {
    let retry_after = response
        .headers()
        .get("retry-after")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse().ok());
    match text_of(url, response).await {
        Ok(body) => ChatError::from_response(response.status(), &body, retry_after),
        Err(error) => error,
    }
}

/// Asks the host's mint route for a Client Token. The request carries the
/// page's cookies (the mint knows the visitor by them) and no user id.
/// `stale` is a token Ringside just refused: sent back in
/// `x-ringside-stale-token`, so a mint that reuses tokens mints a new one
/// instead of handing out the refused one again.
pub async fn fetch_token(
    endpoint: &str,
    credentials: Credentials,
    extra_headers: &[(String, String)],
    stale: Option<&str>,
) -> Result<TokenResponse, ChatError> {
    let body = "{}";
    let mut headers = vec![("content-type", "application/json")];
    headers.extend(extra_headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    if let Some(stale) = stale {
        headers.push(("x-ringside-stale-token", stale));
    }
    let credentials = credentials.into();
    let mut response = post(endpoint, &headers, body, None, credentials).await?;
    // A new visitor's proof-of-work (`--visitor-challenge`): solve, ask
    // again. The solver comes with the answers' chunk, which the token's
    // prefetch has started loading; only a refusal waits for it.
    let solution = match response.status() {
        401 => match crate::chunk::loaded().await {
            // The handle, not `Response::clone` (a copy of the body).
            Some(chunk) => (chunk.solve)(Clone::clone(&response)).await,
            None => None,
        },
        _ => None,
    };
    if let Some(solution) = &solution {
        headers.push((crate::challenge::HEADER, solution));
        response = post(endpoint, &headers, body, None, credentials).await?;
    }
    if !response.ok() {
        return Err(error_of(endpoint, &response).await);
    }
    let text = text_of(endpoint, &response).await?;
    TokenResponse::from_json(&text)
        .ok_or_else(|| ChatError::Malformed("the token response has no token".into()))
}

impl From<Credentials> for RequestCredentials {
    fn from(credentials: Credentials) -> Self {
        match credentials {
            Credentials::SameOrigin => RequestCredentials::SameOrigin,
            Credentials::Include => RequestCredentials::Include,
            Credentials::Omit => RequestCredentials::Omit,
        }
    }
}

/// POSTs the visitor's rating of an answer (JSON `body`) to the host's
/// feedback endpoint, with the cookies and headers of the token request,
/// without waiting: a rating is worth one try. A request that fails is
/// logged by the browser's console (the endpoint logs what it refuses).
pub fn post_feedback(
    endpoint: &str,
    credentials: Credentials,
    extra_headers: &[(String, String)],
    body: &str,
) {
    let mut headers = vec![("content-type", "application/json")];
    headers.extend(extra_headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    match send(endpoint, &headers, body, None, credentials.into()) {
        // Unhandled, a failed fetch is reported on the console with its reason.
        Ok(_sent) => {}
        Err(error) => crate::browser::console_error(&error.to_string()),
    }
}

/// A chat client; you only get one from a [`Token`].
#[derive(Debug)]
pub struct ChatClient {
    url: String,
    authorization: String,
}

impl ChatClient {
    /// A client for `api_base` that authenticates with `token`.
    pub fn new(token: &Token, api_base: &str) -> Self {
        ChatClient {
            url: format!("{}/v1/chat/completions", api_base.trim_end_matches('/')),
            authorization: format!("Client {}", token.token),
        }
    }

    /// Streams the answer to `request` into `sink`: each piece of text once
    /// its frame is complete, in batches handed over when the sink asks for
    /// them; every batch kicks `watchdog`. Ends `Ok` only at `[DONE]`.
    pub async fn stream(
        &self,
        request: StreamRequest<'_>,
        signal: Option<&AbortSignal>,
        watchdog: &Watchdog,
        sink: Rc<dyn AnswerSink>,
    ) -> Result<(), ChatError> {
        let url = &self.url;
        let opened = open_stream(
            url,
            &self.authorization,
            &request.to_json(),
            signal,
            &wasm_bindgen::module(),
        );
        let opened: Opened = JsFuture::from(opened)
            .await
            .map_err(|e| network(url, &e))?
            .unchecked_into();
        let response = opened.response();
        if !response.ok() {
            return Err(error_of(url, &response).await);
        }
        read_stream(&opened.batches(), watchdog, sink).await
    }
}

/// Where an answer's text goes as it streams (the view that paints it,
/// `render::StreamView`), and what paces its batches.
pub trait AnswerSink {
    /// More of the answer's text.
    fn push(&self, delta: &str);

    /// A batch was taken in: asks for the next one by calling `ask` with
    /// when the reader should hand over what it reads from then on (a
    /// `Date.now()` time, 0 for at once), now or once that time is known
    /// (after a paint).
    fn ask_next(&self, ask: &js_sys::Function);
}

/// Starts the reader of answers ahead of a question (the panel opened, the
/// visitor types): see `js/stream-batches.js`.
pub fn prepare() {
    prepare_with(&wasm_bindgen::module());
}

/// The request for an answer and the reader of its body, off the main
/// thread where the page allows: see `js/stream-batches.js`.
#[wasm_bindgen(module = "/js/stream-batches.js")]
extern "C" {
    type Opened;
    type Batches;

    type Decoded;

    /// POSTs `body` with `authorization` (and no cookies); resolves with an
    /// [`Opened`], rejects like `fetch`. `module` is this wasm's, for the
    /// worker to decode with (`src/decoder.rs`).
    #[wasm_bindgen(js_name = openStream)]
    fn open_stream(
        url: &str,
        authorization: &str,
        body: &str,
        signal: Option<&AbortSignal>,
        module: &JsValue,
    ) -> Promise;

    /// Its status and headers, and its body if it is not ok.
    #[wasm_bindgen(method, getter)]
    fn response(this: &Opened) -> Response;

    /// The reader of an ok response's body.
    #[wasm_bindgen(method, getter)]
    fn batches(this: &Opened) -> Batches;

    /// Hands each batch to `on_batch` as it comes (the bytes read, or,
    /// decoded by the worker, a [`Decoded`]), which returns true once the
    /// answer is complete; resolves then, or when the body has ended, and
    /// rejects if a read failed or the request was aborted.
    #[wasm_bindgen(method)]
    fn read(this: &Batches, on_batch: &js_sys::Function) -> Promise;

    /// Asks for what is read from now on, handed over no earlier than
    /// `until` (`Date.now()` ms, 0 for at once): a function, for the
    /// [`AnswerSink`] to call when it knows.
    #[wasm_bindgen(method, getter)]
    fn ask(this: &Batches) -> js_sys::Function;

    /// The text of a batch decoded by the worker, as UTF-8 (see
    /// `js/stream-batches.js` for why not a string).
    #[wasm_bindgen(method, getter)]
    fn utf8(this: &Decoded) -> Uint8Array;

    /// The data of the frame that ended the answer, if it came in this batch.
    #[wasm_bindgen(method, getter)]
    fn end(this: &Decoded) -> Option<String>;

    /// Lets the connection go.
    #[wasm_bindgen(method)]
    fn cancel(this: &Batches);

    /// Starts the worker ahead of a question (the panel opened, the
    /// visitor types), with this wasm's `module` to decode with; unused, it
    /// goes after a while.
    #[wasm_bindgen(js_name = prepare)]
    fn prepare_with(module: &JsValue);

    /// Lets the worker go if no answer streams (a widget was destroyed; the
    /// next answer starts another).
    pub fn release();
}

/// Reads the body to `[DONE]`. A failed read (connection lost, aborted) is
/// an interruption: the answer had started.
///
/// Each batch is taken in by a callback, not awaited: a future woken per
/// batch cost the page's main thread a promise, two closures and a
/// microtask each time (see `js/stream-batches.js`).
async fn read_stream(
    batches: &Batches,
    watchdog: &Watchdog,
    sink: Rc<dyn AnswerSink>,
) -> Result<(), ChatError> {
    let ask = batches.ask();
    let end = Rc::new(RefCell::new(None::<String>));
    let on_batch = {
        let (sink, ask, end, kick) = (sink.clone(), ask.clone(), end.clone(), watchdog.kicker());
        // For bytes read on this thread (no worker, or one that could not
        // decode): the worker's decoder otherwise (`src/decoder.rs`).
        let mut decoder = AnswerDecoder::new();
        let mut buffer = Vec::new();
        Closure::<dyn FnMut(JsValue) -> bool>::new(move |batch: JsValue| {
            kick();
            let push = |text: &str| {
                if !text.is_empty() {
                    sink.push(text);
                }
            };
            let ended = match batch.dyn_ref::<Uint8Array>() {
                Some(bytes) => {
                    copy_into(bytes, &mut buffer);
                    decoder.feed(&buffer);
                    push(&decoder.take_text());
                    decoder.end().map(str::to_string)
                }
                // The worker's decoder wrote whole characters (the text of
                // JSON strings); anything else shows as U+FFFD, with the
                // rest of the text kept.
                None => {
                    let decoded: &Decoded = batch.unchecked_ref();
                    copy_into(&decoded.utf8(), &mut buffer);
                    push(&String::from_utf8_lossy(&buffer));
                    decoded.end()
                }
            };
            let complete = ended.is_some();
            if complete {
                *end.borrow_mut() = ended;
            } else {
                sink.ask_next(&ask);
            }
            complete
        })
    };
    // Done, failed or dropped (the chat went away), the connection is no
    // longer needed, and no batch may reach `on_batch` after it is gone.
    let _cancel = Cancel(batches);
    let read = batches.read(on_batch.as_ref().unchecked_ref());
    sink.ask_next(&ask);
    JsFuture::from(read)
        .await
        .map_err(|_| ChatError::Interrupted)?;
    let end = end.borrow_mut().take();
    match end {
        Some(end) => ending(&end),
        // The body ended before `[DONE]`.
        None => Err(ChatError::Interrupted),
    }
}

/// Copies a batch's bytes out of the JS heap, reusing `buffer`.
fn copy_into(bytes: &Uint8Array, buffer: &mut Vec<u8>) {
    buffer.resize(bytes.length() as usize, 0);
    bytes.copy_to(buffer);
}

/// Lets the connection of [`Batches`] go when dropped.
struct Cancel<'a>(&'a Batches);

impl Drop for Cancel<'_> {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// What the frame that ended an answer (see [`AnswerDecoder`]) means.
fn ending(data: &str) -> Result<(), ChatError> {
    match StreamFrame::parse(data) {
        Ok(StreamFrame::Done) => Ok(()),
        Ok(StreamFrame::Error(error)) => Err(ChatError::Api {
            status: 200,
            code: error.code,
            message: error.message,
            retry_after: None,
        }),
        Ok(StreamFrame::Chunk(_)) => Err(ChatError::Malformed("a chunk ended the answer".into())),
        Err(error) => Err(ChatError::Malformed(error.to_string())),
    }
}

fn js_error(value: &JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| "unknown error".into())
}
