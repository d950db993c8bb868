//! Threads and messages, in OpenAI's (Assistants) shape: `POST /v1/threads`,
//! `GET /v1/threads/{id}`, `POST|GET /v1/threads/{id}/messages`, and
//! `GET /v1/threads` (the caller's threads, newest first: the contract's page
//! names no list, yet a signed-in user's other device needs one to find their
//! conversations; see `ThreadList`).
//!
//! A thread belongs to the customer whose Client Token created it; another
//! customer's token gets 404, as if it did not exist. A server key sees every
//! thread; a thread a server key created belongs to no customer, so only
//! server keys see it. Threads are free, but each call by a Client Token is
//! still checked against the customer's rate limit, wallet and budget.

use std::net::SocketAddr;

use axum::{
    Json, Router,
    extract::{ConnectInfo, RawQuery, State},
    http::HeaderMap,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use ringside_wire::customer::Scope;
use ringside_wire::threads::{
    ContentPartInput, CreateMessage, CreateThread, MessageContent, MessageInput, MessageList,
    TextContent, Thread, ThreadList, ThreadMessage,
};

use crate::AppState;
use crate::auth::{Caller, authorize};
use crate::billing;
use crate::error::ApiError;
use crate::json::{self, Body, Path};
use crate::rate::{self, RateInfo};
use crate::state::{ThreadRecord, new_id};

/// The most messages a thread may hold.
pub const MAX_MESSAGES: usize = 10_000;
/// The most messages a thread may be created with.
pub const MAX_INITIAL_MESSAGES: usize = 32;

/// The thread routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/threads", post(create_thread).get(list_threads))
        .route("/threads/{id}", get(get_thread))
        .route(
            "/threads/{id}/messages",
            post(create_message).get(list_messages),
        )
}

/// Admits a request of `caller` for its customer (threads are free).
fn admit(state: &AppState, caller: &Caller) -> Result<Option<RateInfo>, ApiError> {
    let customer = caller.customer(state, None)?;
    billing::admit_and_charge(
        &mut state.store(),
        state.clock.now_ms(),
        customer.as_deref(),
        0.0,
    )
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("no thread `{id}`"))
}

/// Whether `caller` may see a thread owned by `owner`.
fn visible(caller: &Caller, owner: Option<&str>) -> bool {
    match caller.pinned() {
        None => true,
        Some(customer) => owner == Some(customer),
    }
}

fn message(
    thread_id: &str,
    created_at: i64,
    request: CreateMessage,
    param: &str,
) -> Result<ThreadMessage, ApiError> {
    let text = match request.content {
        MessageInput::Text(text) => text,
        MessageInput::Parts(parts) => {
            if parts.is_empty() {
                return Err(ApiError::invalid(
                    format!("{param}content"),
                    "content must hold at least one part",
                ));
            }
            parts
                .into_iter()
                .map(|ContentPartInput::Text { text }| text)
                .collect()
        }
    };
    Ok(ThreadMessage {
        id: new_id("msg_"),
        object: "thread.message".into(),
        created_at,
        thread_id: thread_id.to_string(),
        role: request.role,
        content: vec![MessageContent {
            kind: "text".into(),
            text: TextContent {
                value: text,
                annotations: Vec::new(),
            },
        }],
        metadata: request.metadata.unwrap_or_default(),
    })
}

/// Handles `POST /v1/threads` (an empty body is an empty thread).
pub async fn create_thread(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &headers, peer.ip(), Scope::Threads)?;
    let request: CreateThread = json::parse_or_default(&body)?;
    if request.messages.len() > MAX_INITIAL_MESSAGES {
        return Err(ApiError::invalid(
            "messages",
            format!("at most {MAX_INITIAL_MESSAGES} messages"),
        ));
    }
    let now = state.clock.now();
    let thread = Thread {
        id: new_id("thread_"),
        object: "thread".into(),
        created_at: now,
        metadata: request.metadata.unwrap_or_default(),
    };
    let messages = request
        .messages
        .into_iter()
        .enumerate()
        .map(|(i, m)| message(&thread.id, now, m, &format!("messages[{i}].")))
        .collect::<Result<Vec<_>, _>>()?;
    let rate = admit(&state, &caller)?;
    let mut store = state.store();
    let seq = store.next_seq();
    store.threads.insert(
        thread.id.clone(),
        ThreadRecord {
            seq,
            owner: caller.pinned().map(str::to_string),
            thread: thread.clone(),
            messages,
        },
    );
    Ok(rate::with_rate(Json(thread).into_response(), rate))
}

/// Handles `GET /v1/threads/{id}`.
pub async fn get_thread(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &headers, peer.ip(), Scope::Threads)?;
    let rate = admit(&state, &caller)?;
    let store = state.store();
    let thread = store
        .threads
        .get(&id)
        .filter(|t| visible(&caller, t.owner.as_deref()))
        .map(|t| t.thread.clone())
        .ok_or_else(|| not_found(&id))?;
    Ok(rate::with_rate(Json(thread).into_response(), rate))
}

/// Handles `POST /v1/threads/{id}/messages` `{role, content, metadata?}`.
pub async fn create_message(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &headers, peer.ip(), Scope::Threads)?;
    let request: CreateMessage = json::parse(&body)?;
    let created = message(&id, state.clock.now(), request, "")?;
    let rate = admit(&state, &caller)?;
    let mut store = state.store();
    let thread = store
        .threads
        .get_mut(&id)
        .filter(|t| visible(&caller, t.owner.as_deref()))
        .ok_or_else(|| not_found(&id))?;
    if thread.messages.len() >= MAX_MESSAGES {
        return Err(ApiError::invalid(
            "content",
            format!("a thread holds at most {MAX_MESSAGES} messages"),
        ));
    }
    thread.messages.push(created.clone());
    Ok(rate::with_rate(Json(created).into_response(), rate))
}

/// Handles `GET /v1/threads[?limit=N&after=thread_…]`: the threads the
/// caller may see, newest first (a Client Token sees its customer's only).
pub async fn list_threads(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &headers, peer.ip(), Scope::Threads)?;
    let query = list_query(raw.as_deref())?;
    if !query.descending {
        return Err(ApiError::invalid(
            "order",
            "threads are listed newest first",
        ));
    }
    let rate = admit(&state, &caller)?;
    let store = state.store();
    let mut threads: Vec<&ThreadRecord> = store
        .threads
        .values()
        .filter(|t| visible(&caller, t.owner.as_deref()))
        .collect();
    threads.sort_by_key(|t| std::cmp::Reverse(t.seq));
    let start = match &query.after {
        Some(after) => threads
            .iter()
            .position(|t| &t.thread.id == after)
            .map(|i| i + 1)
            .ok_or_else(|| ApiError::invalid("after", format!("no thread `{after}` here")))?,
        None => 0,
    };
    let rest = &threads[start..];
    let page: Vec<Thread> = rest
        .iter()
        .take(query.limit)
        .map(|t| t.thread.clone())
        .collect();
    let list = ThreadList {
        object: "list".into(),
        first_id: page.first().map(|t| t.id.clone()),
        last_id: page.last().map(|t| t.id.clone()),
        has_more: rest.len() > page.len(),
        data: page,
    };
    Ok(rate::with_rate(Json(list).into_response(), rate))
}

/// The query of `GET /v1/threads/{id}/messages`.
#[derive(Debug)]
struct ListQuery {
    /// Newest first (`desc`, OpenAI's default) or oldest first (`asc`).
    descending: bool,
    /// 1 to 100, default 20.
    limit: usize,
    /// Start after this message id.
    after: Option<String>,
}

fn list_query(raw: Option<&str>) -> Result<ListQuery, ApiError> {
    let mut query = ListQuery {
        descending: true,
        limit: 20,
        after: None,
    };
    for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "order" => {
                query.descending = match value {
                    "desc" => true,
                    "asc" => false,
                    _ => return Err(ApiError::invalid("order", "order is `asc` or `desc`")),
                }
            }
            "limit" => {
                query.limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=100).contains(n))
                    .ok_or_else(|| ApiError::invalid("limit", "limit is 1 to 100"))?;
            }
            "after" => query.after = Some(value.to_string()),
            _ => {}
        }
    }
    Ok(query)
}

/// Handles `GET /v1/threads/{id}/messages[?order=asc|desc&limit=N&after=msg_…]`.
pub async fn list_messages(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &headers, peer.ip(), Scope::Threads)?;
    let query = list_query(raw.as_deref())?;
    let rate = admit(&state, &caller)?;
    let store = state.store();
    let thread = store
        .threads
        .get(&id)
        .filter(|t| visible(&caller, t.owner.as_deref()))
        .ok_or_else(|| not_found(&id))?;
    let ordered: Vec<&ThreadMessage> = if query.descending {
        thread.messages.iter().rev().collect()
    } else {
        thread.messages.iter().collect()
    };
    let start = match &query.after {
        Some(after) => ordered
            .iter()
            .position(|m| &m.id == after)
            .map(|i| i + 1)
            .ok_or_else(|| ApiError::invalid("after", format!("no message `{after}` here")))?,
        None => 0,
    };
    let rest = &ordered[start..];
    let page: Vec<ThreadMessage> = rest
        .iter()
        .take(query.limit)
        .map(|m| (*m).clone())
        .collect();
    let list = MessageList {
        object: "list".into(),
        first_id: page.first().map(|m| m.id.clone()),
        last_id: page.last().map(|m| m.id.clone()),
        has_more: rest.len() > page.len(),
        data: page,
    };
    Ok(rate::with_rate(Json(list).into_response(), rate))
}
