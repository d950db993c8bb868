// The states page. Each button uses the mock gateway's test controls
// (server/mock/CONTROLS.md) to make the next answer fail one way, and the
// activity list shows the widget's events and the gateway's log, so a visitor
// watches each recovery. The controls exist only on a mock started with
// --controls, as `cargo xtask demo` starts it; no key is needed or held here.
const mock = document.body.dataset.mock;
const activity = document.getElementById("activity");
let chat = null;
let seen = 0;

/** Adds a line at the top of the activity list. */
function note(text, bad = false) {
  const line = document.createElement("li");
  const time = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  line.textContent = `${time}  ${text}`;
  if (bad) line.className = "bad";
  activity.prepend(line);
}

/** Calls a control of the mock; its JSON answer, if any. */
async function control(path, body) {
  const response = await fetch(`${mock}/__mock/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`the mock refused /__mock/${path} (${response.status}); is it running with --controls?`);
  return response.status === 204 ? null : response.json();
}

/** The gateway's requests so far (the mock's log). */
async function gatewayLog() {
  const response = await fetch(`${mock}/__mock/log`);
  if (!response.ok) throw new Error(`the mock's log answered ${response.status}; is it running with --controls?`);
  return (await response.json()).requests;
}

/** Shows the gateway's requests logged since the last look. */
async function refresh() {
  try {
    const requests = await gatewayLog();
    for (const r of requests.slice(seen)) {
      const path = r.path.replace(/customers\/[^/]+/, "customers/…");
      note(`gateway: ${r.method} ${path} → ${r.status}`, r.status >= 400);
    }
    seen = requests.length;
  } catch (error) {
    note(`cannot read the gateway's log: ${error.message}`, true);
  }
}

async function mountChat() {
  chat = await window.RingsideChat.mount({
    mode: "inline",
    container: "#chat",
    // Named, so that mounting it again finds the same stored conversation.
    name: "states",
    title: "Ask Acme",
    welcome: "Pick a state on the left, then ask me anything.",
    suggestions: ["Tell me everything", "Compare your plans in a table"],
  });
  chat.on("token", () => {
    note("widget: fetched a Client Token from /api/chat-token");
    refresh();
  });
  chat.on("error", (error) => {
    note(`widget: ${error}`, true);
    refresh();
  });
  chat.on("message", () => {
    note("widget: an answer finished");
    refresh();
  });
}

/** Runs a button's action, saying what it did (or why it failed). */
function button(id, action) {
  document.getElementById(id).addEventListener("click", async () => {
    try {
      note(await action());
    } catch (error) {
      note(error.message, true);
    }
  });
}

const next = (fault) => control("script", { completions: [{ fault }] });

button("credit", async () => {
  await next({ kind: "status", status: 402, code: "customer_wallet_empty", message: "The customer's wallet is empty." });
  return "page: the next answer will find the wallet empty (402). Ask anything.";
});
button("remount", async () => {
  chat.destroy();
  await mountChat();
  return "page: mounted the chat again, as a host does after a top-up.";
});
button("rate", async () => {
  const seconds = Math.max(1, Math.min(120, Number(document.getElementById("rate-seconds").value) || 10));
  await next({
    kind: "status",
    status: 429,
    code: "rate_limit_exceeded",
    message: "The customer is over its rate limit of requests per minute.",
    retry_after: seconds,
  });
  return `page: the next question will hit the rate limit (429, retry after ${seconds} s). Ask anything.`;
});
button("drop", async () => {
  await next({ kind: "drop", after: 40 });
  return "page: the next answer's connection will break after 40 tokens. Ask something long.";
});
button("revoke", async () => {
  const { revoked } = await control("revoke", {});
  await refresh();
  return `page: the site's server revoked ${revoked} live Client Token${revoked === 1 ? "" : "s"}. Ask anything.`;
});

// Only what happens from now on is shown.
gatewayLog()
  .then((requests) => (seen = requests.length))
  .catch((error) => note(error.message, true))
  .then(mountChat);
