// The widget asks for an answer and reads its body through this
// (`src/api.rs`, `openStream`).
//
// Why off the main thread: a paced answer arrives one SSE frame per read, a
// few hundred reads a second, and every read is a task of the thread that
// reads it. The page's main thread is the host's as much as ours, so the
// request is made and its body read in a dedicated worker, which hands the
// answer over in batches: the main thread runs about one task per paint, not
// one per read (measured: `cargo xtask bench`, issue #15). Where a worker
// cannot be had (a host page whose Content-Security-Policy does not allow
// `blob:` workers, or that enforces Trusted Types), the very same code runs
// on the main thread instead.
//
// Why batches: the bytes read while a paint is due later (the paint cadence
// of `src/render.rs`) wait until just before it, so no text shows later for
// it, and the page runs about one task per paint, not one per read. That
// task only hands the batch to the widget (a call into the wasm), which asks
// for the next one when its paint has run (a message to the worker): no
// promise, timer or microtask of the page's per batch. Measured in traces of
// a paced 1k-token answer: a batch's task took 0.26 ms of the main thread
// (median) when it resolved a promise the wasm awaited, which asked for the
// next batch with another promise and a timer; 0.18 ms as a call.
//
// A page in the background runs no frames, so it may not ask: the worker
// then hands over what it read at least every `PAINT_WAIT_MS`.
//
// Why decode there: a flooded answer arrives thousands of SSE frames at a
// time, and their SSE and JSON were the main thread's largest cost per token.
// The worker decodes with the page's own wasm (`src/decoder.rs`): the page
// posts it the compiled module, which it instantiates for each answer, with
// nothing more downloaded; it hands the page the answer's text as UTF-8
// bytes, and the one frame that ended it. Bytes, not a string: the page's
// wasm takes bytes with one copy, while a string goes into it through a
// loop of the glue's JavaScript, a character at a time (timed in traces of
// a flooded 32k-token answer: 5 to 9 ms of the main thread as a string,
// 0.2 ms as bytes). Where it cannot (the module cannot be posted or
// instantiated, or there is no worker), it hands over the bytes, and the page
// decodes them with the same decoder.
//
// Why JavaScript: a worker needs a script of its own. This one is built from
// `streams`' own source, so the worker and the fallback cannot differ.

let send; // (message) => void: to the worker, or to `streams` on this thread
let idle = () => {}; // called when no answer is open
let quit = () => {}; // lets the worker go
let ids = 0;
const open = new Map(); // id -> (message from the reader) => void

/** A worker lives while answers stream, and this long after the last one. */
const KEEP_MS = 30_000;

// Runs in the worker (or, without one, here): answers the messages
// `openStream` sends, through `post`. Self-contained: it is sent to the
// worker as its source text.
function streams(post) {
  // The longest the worker waits for the page to ask for the next batch: a
  // page in the background runs no frames (so no paint asks), and there the
  // bytes come at least this often.
  const PAINT_WAIT_MS = 100;
  const live = new Map(); // id -> { abort, ask }
  const fail = (id, error) => {
    live.delete(id);
    post({ id, error: { name: error.name, message: error.message } });
  };

  // The widget's wasm module, to decode with (`src/decoder.rs`): an
  // instance of it per answer; null where it cannot be instantiated.
  let wasm = null;
  let imports;
  const instance = () => new WebAssembly.Instance(wasm, imports).exports;
  const load = (module) => {
    try {
      // Every import throws: the decoder calls none.
      imports = {};
      for (const { module: from, name } of WebAssembly.Module.imports(module)) {
        (imports[from] ??= {})[name] = () => {
          throw new Error(`${name} is not for the stream's worker`);
        };
      }
      wasm = module;
      instance();
    } catch {
      wasm = null;
    }
  };
  const utf8 = new TextDecoder();
  // A decoder for one stream: `feed(bytes)`, then `take()` the text decoded
  // since the last take (`utf8`, its bytes), and the data of the frame that
  // ended the answer once it has come. None (the stream's bytes are handed
  // over) where no instance can be had.
  const decoder = () => {
    let w;
    try {
      w = wasm && instance();
    } catch {}
    if (!w) return null;
    let pieces = [];
    let end;
    // `w.memory.buffer` is read after each call: a call may grow the memory.
    const bytes = (at, length) => new Uint8Array(w.memory.buffer, at >>> 0, length >>> 0);
    return {
      feed(value) {
        bytes(w.rsc_decoder_input(value.length), value.length).set(value);
        // Feed first: it may grow the memory, which detaches the old buffer.
        const out = w.rsc_decoder_feed() >>> 0;
        const [at, length, endAt, endLength] = new Uint32Array(w.memory.buffer, out, 4);
        if (length) pieces.push(bytes(at, length).slice());
        if (endLength !== 0xffffffff && end === undefined) end = utf8.decode(bytes(endAt, endLength));
      },
      take() {
        const batch = { utf8: join(pieces), end };
        pieces = [];
        return batch;
      },
    };
  };

  // Resolves `next(until)` with what was read since the last batch, no
  // earlier than `until` (`Date.now()` ms; 0: as soon as anything came): the
  // bytes (a `Uint8Array`), or what `decoding` (a `decoder()`, if any)
  // made of them; with `undefined` once the body has ended and everything
  // was handed over; and rejects with the read's error if a read failed.
  const batches = (reader, decoding) => {
    let parts = [];
    let ended = false;
    let failure = null;
    let waiter = null;
    let timer = 0;
    const settle = () => {
      timer = 0;
      if (!waiter || (!parts.length && !ended)) return;
      const wait = waiter.until - Date.now();
      if (parts.length && wait > 0 && !ended) {
        timer = setTimeout(settle, wait);
        return;
      }
      const { resolve, reject } = waiter;
      waiter = null;
      if (parts.length) {
        resolve(decoding ? decoding.take() : join(parts));
        parts = [];
      } else if (failure) {
        reject(failure);
      } else {
        resolve(undefined);
      }
    };
    const wake = () => {
      if (!timer) settle();
    };
    (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (decoding) decoding.feed(value);
          // Decoded, `parts` only counts the reads.
          parts.push(decoding ? null : value);
          wake();
        }
      } catch (error) {
        failure = error;
      }
      ended = true;
      clearTimeout(timer);
      timer = 0;
      settle();
    })();
    return (until) =>
      new Promise((resolve, reject) => {
        waiter = { resolve, reject, until };
        wake();
      });
  };
  const join = (parts) => {
    if (parts.length === 1) return parts[0];
    if (!parts.length) return new Uint8Array(0);
    let size = 0;
    for (const part of parts) size += part.length;
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const part of parts) {
      bytes.set(part, at);
      at += part.length;
    }
    return bytes;
  };

  const start = async (id, url, authorization, body) => {
    const controller = new AbortController();
    const stream = { abort: () => controller.abort() };
    live.set(id, stream);
    try {
      // The gateway authenticates by the token alone: no cookies go to it.
      const response = await fetch(url, {
        method: "POST",
        headers: { authorization, "content-type": "application/json", accept: "text/event-stream" },
        body,
        credentials: "omit",
        signal: controller.signal,
      });
      const head = { id, status: response.status, headers: [...response.headers] };
      if (response.ok) {
        const reader = response.body.getReader();
        const next = batches(reader, decoder());
        let unasked = 0; // the timer that asks for the page, if it does not
        stream.ask = (until) => {
          clearTimeout(unasked);
          next(until).then(
            (batch) => {
              if (!batch) live.delete(id);
              else unasked = setTimeout(stream.ask, PAINT_WAIT_MS, 0);
              post({ id, batch });
            },
            (error) => fail(id, error),
          );
        };
        stream.abort = () => {
          clearTimeout(unasked);
          reader.cancel();
        };
      } else {
        head.text = await response.text();
        live.delete(id);
      }
      post(head);
    } catch (error) {
      fail(id, error);
    }
  };

  return ({ id, url, authorization, body, until, module }) => {
    const stream = live.get(id);
    if (module) {
      load(module);
    } else if (url) {
      start(id, url, authorization, body);
    } else if (until === undefined) {
      // Stopped, or read to the end: let the connection go.
      live.delete(id);
      stream?.abort();
    } else {
      stream?.ask(until);
    }
  };
}

/**
 * The worker, started on first use with the widget's wasm `module` to decode
 * with; `streams` on this thread (handing over bytes) if it cannot start.
 */
function connect(module) {
  if (send) return;
  const here = () => {
    const handle = streams((message) => queueMicrotask(() => open.get(message.id)?.(message)));
    send = handle;
  };
  try {
    const source = `const handle=(${streams})(m=>postMessage(m));onmessage=e=>handle(e.data);postMessage(0)`;
    const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
    const worker = new Worker(url);
    let unsent = []; // what was posted before it started, null once it has
    let timer = 0;
    quit = () => {
      clearTimeout(timer);
      worker.terminate();
      send = undefined;
      idle = quit = () => {};
    };
    idle = () => {
      clearTimeout(timer);
      timer = setTimeout(() => open.size || unsent || quit(), KEEP_MS);
    };
    worker.onmessage = ({ data }) => {
      if (data === 0) {
        unsent = null;
        URL.revokeObjectURL(url);
      } else {
        open.get(data.id)?.(data);
      }
    };
    worker.onerror = (event) => {
      if (unsent) {
        // It never started (refused by the page's policy): nothing it was
        // given went out, so this thread does it all.
        event.preventDefault();
        quit();
        URL.revokeObjectURL(url);
        const given = unsent.filter((message) => !message.module);
        here();
        given.forEach(send);
      } else {
        for (const settle of open.values()) settle({ error: { name: "Error", message: event.message } });
      }
    };
    send = (message) => {
      unsent?.push(message);
      worker.postMessage(message);
    };
  } catch {
    here();
    return;
  }
  if (!module) return;
  try {
    send({ module });
  } catch {
    // A module this browser cannot post: the worker hands over bytes.
    unsent?.pop();
  }
}

/**
 * POSTs `body` to `url` (the chat completions) with `authorization`, and
 * resolves with `{response, batches}`: the response's status and headers
 * (and its body, when it is not ok), and for an ok one the reader of its
 * body. `batches.read(onBatch)` hands each batch to `onBatch` as it comes:
 * the bytes read since the last one, or `{utf8, end}` decoded by the worker
 * (the text's UTF-8 bytes; `end` is the data of the frame that ended the
 * answer, once it came);
 * `onBatch` returns true once the answer is complete. It resolves when the
 * answer is complete or the body has ended, and rejects with the read's
 * error (or `signal`'s reason once it aborts). Each batch is handed over
 * once asked for: `batches.ask(until)` asks for what is read from now on,
 * no earlier than `until` (`Date.now()` ms, 0 for at once).
 * `batches.cancel()` lets the connection go. `openStream` rejects like
 * `fetch` (a network error; `signal`'s reason once it aborts). `module` is
 * the widget's compiled wasm, for the worker to decode with
 * (`src/decoder.rs`).
 */
export function openStream(url, authorization, body, signal, module) {
  connect(module);
  const id = ++ids;
  return new Promise((resolve, reject) => {
    let waiter = { resolve, reject }; // the response's, then the read's
    let onBatch = null;
    const end = () => {
      if (!open.delete(id)) return;
      signal?.removeEventListener("abort", stop);
      send({ id });
      if (!open.size) idle();
    };
    const settle = (how, value) => {
      const pending = waiter;
      waiter = onBatch = null;
      pending?.[how](value);
    };
    const stop = () => {
      end();
      settle("reject", signal.reason);
    };
    if (signal?.aborted) return reject(signal.reason);
    signal?.addEventListener("abort", stop);
    const batches = {
      read(handle) {
        return new Promise((resolve, reject) => {
          if (!open.has(id)) return reject(new Error("the answer's stream has ended"));
          waiter = { resolve, reject };
          onBatch = handle;
        });
      },
      // Called detached, by the wasm.
      ask: (until) => {
        if (open.has(id)) send({ id, until });
      },
      cancel: end,
    };
    open.set(id, (message) => {
      if (message.error) {
        end();
        return settle("reject", Object.assign(new Error(message.error.message), { name: message.error.name }));
      }
      if (message.status) {
        const response = new Response(message.text ?? null, message);
        if (!response.ok) end();
        return settle("resolve", { response, batches });
      }
      if (message.batch && !onBatch?.(message.batch)) return;
      end();
      settle("resolve");
    });
    send({ id, url, authorization, body });
  });
}

/**
 * A question is on its way (the panel opened, the visitor types): the worker
 * starts now, not between Enter and the answer, where starting it (a thread,
 * its script) would cost the page a few ms. Unused, it goes after `KEEP_MS`
 * from the last call. `module`: as for `openStream`.
 */
export function prepare(module) {
  connect(module);
  if (!open.size) idle();
}

/** A widget was destroyed: if no answer streams, the worker goes now. */
export function release() {
  if (!open.size) quit();
}
