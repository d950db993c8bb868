/*! Ringside Chat, conversations kept on the server (`persist: "server"`).
 *
 * The loader imports this module only for a widget with `persist: "server"`,
 * once the widget is mounted: pages that do not keep conversations on the
 * server never download it (in the wasm, the same work cost 7 KB brotli for
 * every page; see BENCHMARKS.md).
 *
 * The widget keeps the conversation in localStorage, one key per message
 * (src/storage.rs has the format, version 3; this module writes exactly
 * that, and the browser tests in e2e/tests/devices.spec.ts hold the two
 * together). This module copies each finished exchange to a Ringside thread
 * of the customer (`/v1/threads`, made with the first exchange and titled by
 * its question), each message with the key, time and question it has in the
 * widget (`metadata`), so another device puts it in the same place and never
 * shows it twice; then, when the panel opens, it brings in what other devices
 * added, or, with no conversation here, shows the user's newest one. The
 * header's "Past conversations" lists the user's threads, newest first.
 *
 * Listing uses `GET /v1/threads`, which the contract's routes lack (the mock
 * has it): on a gateway without it the history says it could not load them.
 * Client Tokens need the `threads` scope (the mint's `--threads` flag).
 * Everything read from a thread is shown as text (`textContent`) or, for
 * answers, through the widget's own Markdown tree: never as HTML. */

// The English texts of the history; `strings` (the host's, or the page's
// language's) replaces them, as it does the widget's (src/strings.rs has
// the same five).
const ENGLISH = {
  history: "Past conversations",
  noHistory: "No past conversations yet.",
  historyFailed: "Your past conversations could not be loaded.",
  loading: "Loading…",
  backToChat: "Back to the chat",
  newConversation: "New conversation",
};

const TITLE = 80;
const CSS =
  ".rsc-log[hidden],.rsc-history[hidden]{display:none}" +
  ".rsc-history{flex:1;overflow-y:auto;padding:14px 16px;display:flex;flex-direction:column;align-items:flex-start;gap:10px}" +
  ".rsc-history h3{margin:0;font-size:15px}" +
  ".rsc-history__new{font:inherit;font-size:14px;padding:4px 12px;border-radius:8px;border:1px solid var(--ringside-border);background:var(--ringside-bg);color:var(--ringside-fg);cursor:pointer}" +
  ".rsc-history ul{list-style:none;margin:0;padding:0;align-self:stretch;display:flex;flex-direction:column;gap:2px}" +
  ".rsc-history__item{all:unset;box-sizing:border-box;width:100%;display:flex;align-items:baseline;gap:12px;padding:8px 10px;border-radius:8px;cursor:pointer}" +
  ".rsc-history__item:hover{background:var(--ringside-assistant-bg)}" +
  ".rsc-history__item:focus-visible{outline:3px solid var(--ringside-focus);outline-offset:2px}" +
  ".rsc-history__name{flex:1;min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}" +
  ".rsc-history__when{flex:none;color:var(--ringside-muted);font-size:12px}" +
  ".rsc-history p{margin:0;color:var(--ringside-muted);font-size:14px}";

/** The claims of a JWT, read without verifying (only Ringside verifies). */
function claims(jwt) {
  try {
    return JSON.parse(atob(jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
  } catch (e) {
    return {};
  }
}

/** Hooks the threads to a mounted widget: `wasm` is its handle, `root` its
 * shadow root, `o` its options, `strings()` its texts, `on` its events. */
export function attach(wasm, root, o, strings, on) {
  const store = window.localStorage;
  const text = (key) => strings()[key] || ENGLISH[key];
  let queue = Promise.resolve();
  let refreshed = false;

  /** A Client Token and its gateway: the widget's own (`clientToken` in
   * src/lib.rs: the same cache, turn at the token endpoint and challenge as
   * its questions), never a second request of this module's. */
  async function token(refused) {
    let answer = wasm.clientToken(refused, false);
    // No fresh token yet: wait for the widget's fetch, then take its result.
    if (answer instanceof Promise) {
      await answer;
      answer = wasm.clientToken(undefined, true);
    }
    const [jwt, base] = answer;
    return { jwt, base: base.replace(/\/+$/, ""), customer: claims(jwt).sub };
  }

  /** `method` `/v1/threads{path}` with `body`; the answer's JSON. A token
   * Ringside refused is replaced once. */
  async function call(method, path, body, refused) {
    const a = await token(refused);
    const response = await fetch(a.base + "/v1/threads" + path, {
      method,
      headers: { authorization: "Client " + a.jwt, "content-type": "application/json" },
      body: body && JSON.stringify(body),
    });
    if (response.status == 401 && !refused) return call(method, path, body, a.jwt);
    if (!response.ok) throw new Error(method + " /v1/threads" + path + " answered " + response.status);
    return response.json();
  }

  // The widget's storage (src/storage.rs, version 3).
  const prefix = (customer) => o.storageKey + customer;
  const record = (c) => o.storageKey + "~thread:" + c;
  function read(customer) {
    let meta = null;
    try { meta = JSON.parse(store.getItem(prefix(customer))); } catch (e) {}
    const c = meta && meta.v == 3 ? meta.c : null;
    const messages = [];
    for (let i = 0; i < store.length; i++) {
      const key = store.key(i);
      if (!c || !key.startsWith(prefix(customer) + "/")) continue;
      try {
        const m = JSON.parse(store.getItem(key));
        if (m.c == c) messages.push(Object.assign({ k: key.slice(prefix(customer).length + 1) }, m));
      } catch (e) {}
    }
    messages.sort((a, b) => a.at - b.at || (a.q < b.q ? -1 : a.q > b.q ? 1 : 0) || (a.r == "user" ? -1 : 1));
    return { c, messages };
  }
  function write(customer, c, messages, replace) {
    if (replace) {
      for (let i = store.length; i--; ) {
        const key = store.key(i);
        if (key == prefix(customer) || key.startsWith(prefix(customer) + "/")) store.removeItem(key);
      }
    }
    store.setItem(prefix(customer), JSON.stringify({ v: 3, c }));
    const now = Date.now();
    messages.forEach((m) => store.setItem(prefix(customer) + "/" + m.k, JSON.stringify({ c, r: m.r, x: m.x, s: "done", at: m.at, u: now, q: m.q })));
  }
  const recordOf = (c) => { try { return JSON.parse(store.getItem(record(c))) || {}; } catch (e) { return {}; } };
  const keep = (c, r) => store.setItem(record(c), JSON.stringify(r));

  /** A thread's messages, oldest first, as the widget stores them. */
  async function messagesOf(thread) {
    const out = [];
    let after = "";
    let question = "";
    for (let page = 0; page < 10; page++) {
      const list = await call("GET", "/" + thread + "/messages?order=asc&limit=100" + after);
      list.data.forEach((m, i) => {
        const meta = m.metadata || {};
        const part = (m.content || [])[0];
        if (!part || (m.role != "user" && m.role != "assistant")) return;
        const k = String(meta.k || m.id);
        if (m.role == "user") question = k;
        if (!out.some((x) => x.k == k)) {
          out.push({ k, r: m.role, x: String(part.text && part.text.value || ""), at: Number(meta.at) || m.created_at * 1000 + out.length, q: String(meta.q || question) });
        }
      });
      if (!list.has_more) break;
      after = "&after=" + list.last_id;
    }
    return out;
  }

  /** Posts the finished messages not in the thread yet, in order. */
  function sync() {
    queue = queue.then(async () => {
      const a = await token();
      const { c, messages } = read(a.customer);
      if (!c) return;
      const r = recordOf(c);
      const posted = r.posted || [];
      const finished = (m) => m.x && (m.s == "done" || (m.r == "assistant" && m.s == "stopped"));
      const pending = messages.filter((m) => finished(m) && !posted.includes(m.k) &&
        (m.r == "assistant" || messages.some((x) => x.q == m.k && x.r == "assistant" && finished(x))));
      if (!pending.length) return;
      const body = (m) => ({ role: m.r, content: m.x, metadata: { k: m.k, q: m.q, at: String(m.at) } });
      if (!r.th) {
        const first = pending.slice(0, 32);
        const title = (pending.find((m) => m.r == "user") || { x: "" }).x.slice(0, TITLE);
        const thread = await call("POST", "", { metadata: { title }, messages: first.map(body) });
        r.th = thread.id;
        r.posted = posted.concat(first.map((m) => m.k));
        keep(c, r);
        pending.splice(0, 32);
      }
      for (const m of pending) {
        await call("POST", "/" + r.th + "/messages", body(m));
        (r.posted = r.posted || []).push(m.k);
        keep(c, r);
      }
    }).catch((error) => console.error("[ringside-chat] the conversation could not be kept on the server:", error));
    return queue;
  }

  /** Once per page, when the panel opens: what other devices added to this
   * conversation's thread, or, with no conversation here, the newest one. */
  function refresh() {
    if (refreshed) return;
    refreshed = true;
    queue = queue.then(async () => {
      const a = await token();
      const { c, messages } = read(a.customer);
      const r = c ? recordOf(c) : {};
      if (r.th) {
        const missing = (await messagesOf(r.th)).filter((m) => !messages.some((x) => x.k == m.k));
        if (!missing.length) return;
        write(a.customer, c, missing, false);
        keep(c, { th: r.th, posted: (r.posted || []).concat(missing.map((m) => m.k)) });
      } else if (!messages.length) {
        const newest = (await call("GET", "?limit=1")).data[0];
        if (!newest) return;
        await show(a.customer, newest.id);
        return;
      } else return;
      wasm.reload();
    }).catch((error) => console.error("[ringside-chat] past conversations could not be loaded:", error));
  }

  /** Shows the thread `id` as the conversation. */
  async function show(customer, id) {
    const messages = await messagesOf(id);
    wasm.reset();
    write(customer, id, messages, true);
    keep(id, { th: id, posted: messages.map((m) => m.k) });
    wasm.reload();
  }

  // The history: a button in the panel's header, a list in the log's place.
  const panel = root.querySelector(".rsc-panel");
  const log = root.querySelector(".rsc-log");
  if (!panel || !log) return;
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(CSS);
  root.adoptedStyleSheets = root.adoptedStyleSheets.concat(sheet);
  const make = (tag, className, content) => {
    const element = document.createElement(tag);
    if (className) element.className = className;
    if (content) element.textContent = content;
    return element;
  };
  const button = make("button", "rsc-icon-button", "☰");
  button.type = "button";
  button.setAttribute("aria-label", text("history"));
  button.setAttribute("aria-expanded", "false");
  button.title = text("history");
  const region = make("div", "rsc-history");
  region.setAttribute("role", "region");
  region.setAttribute("aria-label", text("history"));
  region.hidden = true;
  const anchor = panel.querySelector("[data-action=new-conversation]");
  anchor.parentNode.insertBefore(button, anchor);
  log.after(region);

  const close = () => {
    region.hidden = true;
    log.hidden = false;
    button.setAttribute("aria-expanded", "false");
  };
  const list = (items) => {
    region.replaceChildren(make("h3", "", text("history")));
    const fresh = make("button", "rsc-history__new", text("newConversation"));
    fresh.type = "button";
    fresh.onclick = () => { close(); wasm.reset(); };
    region.append(fresh);
    if (typeof items == "string") region.append(make("p", "", text(items)));
    else {
      const ul = make("ul");
      const when = new Intl.RelativeTimeFormat(o.locale, { numeric: "auto" });
      items.forEach((t) => {
        const item = make("button", "rsc-history__item");
        item.type = "button";
        const name = make("span", "rsc-history__name", (t.metadata && t.metadata.title) || text("newConversation"));
        name.dir = "auto";
        const ago = (Date.now() / 1000 - t.created_at) | 0;
        const [value, unit] = ago < 60 ? [ago, "second"] : ago < 3600 ? [ago / 60, "minute"] : ago < 86400 ? [ago / 3600, "hour"] : [ago / 86400, "day"];
        item.append(name, make("span", "rsc-history__when", when.format(-Math.floor(value), unit)));
        item.onclick = () => {
          close();
          token().then((a) => show(a.customer, t.id)).catch((error) => console.error("[ringside-chat] the conversation could not be loaded:", error));
        };
        const li = make("li");
        li.append(item);
        ul.append(li);
      });
      region.append(ul);
    }
    const back = make("button", "rsc-link-button", text("backToChat"));
    back.type = "button";
    back.onclick = close;
    region.append(back);
  };
  button.onclick = () => {
    if (!region.hidden) return close();
    region.hidden = false;
    log.hidden = true;
    button.setAttribute("aria-expanded", "true");
    list("loading");
    call("GET", "?limit=30").then(
      (threads) => { if (!region.hidden) list(threads.data.length ? threads.data : "noHistory"); },
      (error) => {
        console.error("[ringside-chat] past conversations could not be listed:", error);
        if (!region.hidden) list("historyFailed");
      },
    );
  };

  on("message", sync);
  on("open", refresh);
  if (!panel.hidden) refresh();
}
