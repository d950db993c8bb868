// The widget reads an answer's body through this (`src/api.rs`, `Batches`).
//
// Why it is JavaScript: a paced answer arrives one SSE frame per read, a few
// hundred reads a second. Awaiting each read from Rust costs a promise, two
// closures, a task of the wasm executor and two property reads per read;
// measured, that was most of the widget's script time while streaming
// (`cargo xtask bench`, issue #15). Here the reads are awaited in plain
// JavaScript and handed to the wasm in batches, when the widget would paint
// them: while a paint is already due later (the paint cadence of
// `src/render.rs`), the reads wait here until just before it, so no text
// shows later for it and the wasm runs about twice per paint, not once per
// read.
//
// `next(until)` resolves with the bytes read since the last batch (a
// `Uint8Array`), no earlier than just before `until` (`Date.now()` ms; 0: as
// soon as there are any); with `undefined` once the body has ended and every
// byte was handed over; and rejects with the read's error if a read failed.
export function streamBatches(reader) {
  let parts = [];
  let ended = false;
  let failure = null;
  let waiter = null;
  let timer = 0;

  const settle = () => {
    timer = 0;
    if (!waiter || (!parts.length && !ended)) return;
    // A little ahead of the paint's own timer, which then finds the text in.
    const wait = waiter.until - 2 - Date.now();
    if (parts.length && wait > 0 && !ended) {
      timer = setTimeout(settle, wait);
      return;
    }
    const { resolve, reject } = waiter;
    waiter = null;
    if (parts.length) {
      resolve(join(parts));
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
        parts.push(value);
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

  return {
    next(until) {
      return new Promise((resolve, reject) => {
        waiter = { resolve, reject, until };
        wake();
      });
    },
  };
}

function join(parts) {
  if (parts.length === 1) return parts[0];
  let size = 0;
  for (const part of parts) size += part.length;
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}
