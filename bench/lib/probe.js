// The in-page probe every benchmark page gets before any of its own scripts
// (Playwright's addInitScript). It only timestamps: what it records is read
// back and analysed in Node after each run, so its own cost stays small and
// the same for every widget measured.
//
// - Start-up marks: a requestAnimationFrame poll from the first frame notes
//   the frame in which the launcher (or an inline input) is first laid out,
//   and, after the first click, the moment the input is focused and enabled.
// - Reads: ReadableStreamDefaultReader.prototype.read is wrapped, so every
//   read of a response body (the widget's and the peer's streams alike) is
//   timestamped when it resolves, before its consumer sees it; in a worker
//   too (a classic worker from a blob: URL gets the wrapper first), whose
//   timestamps and sizes come over when its stream ends, and its bytes only
//   when the run is collected, after it was measured.
// - Frames (latency runs): every rAF callback of the page marks "a frame is
//   being rendered" until a task posted from it runs, which is after that
//   frame's paint. So a DOM change made inside a frame is painted by that
//   frame, and one made in a task by the next, whose time a
//   requestAnimationFrame loop notes. The loop makes the page render a frame
//   every 16.7 ms, and each mark costs a task, which a page that paints
//   nothing would not pay, so runs that measure what a page costs do neither
//   and take long frames from the Long Animation Frames API instead.
// - Text: a MutationObserver on the widget's (shadow) root notes each change
//   inside the answer being streamed, and whether a frame was being rendered.
/* eslint-disable no-undef */
/** Whether a read's bytes end with the stream's last frame, `data: [DONE]\n\n`. */
function endsTheStream(v) {
  const n = v.byteLength;
  return n >= 8 && v[n - 1] === 10 && v[n - 2] === 10 && v[n - 3] === 93 && v[n - 8] === 91 && v[n - 7] === 68;
}

function benchProbe(config) {
  const B = (window.__bench = {
    config,
    marks: { launcher: 0, click: 0, ready: 0, inline: 0 },
    armed: false,
    reads: [], // t, byteLength (-1: done)
    chunks: [],
    lastByteAt: 0,
    muts: [], // t, 1 if inside a frame
    lastMutAt: 0,
    samples: null, // t, 1 if inside a frame, non-whitespace characters in the answer
    frames: [],
    longFrames: [], // startTime, duration of animation frames of 50 ms or more
    counting: false,
    inFrame: false,
  });
  const raf = window.requestAnimationFrame.bind(window);
  const channel = new MessageChannel();
  channel.port1.onmessage = () => {
    B.inFrame = false;
  };
  // Marking a frame costs the page a task (the message to itself), which a
  // page that renders no frame (the floor) never pays: only the latency runs,
  // which need to know, mark them (the cost runs do not use it).
  const enterFrame = () => {
    if (B.samples && !B.inFrame) {
      B.inFrame = true;
      channel.port2.postMessage(0);
    }
  };
  window.requestAnimationFrame = function requestAnimationFrame(callback) {
    return raf((time) => {
      enterFrame();
      callback(time);
    });
  };

  /** Notes one read: `t` (performance.now() of this page), its bytes (or done). */
  const noteRead = (t, result) => {
    if (result.done) {
      B.reads.push(t, -1);
      return;
    }
    const v = result.value;
    B.reads.push(t, v.byteLength);
    B.chunks.push(v);
    if (endsTheStream(v)) B.lastByteAt = t;
  };
  const read = ReadableStreamDefaultReader.prototype.read;
  ReadableStreamDefaultReader.prototype.read = function () {
    const promise = read.apply(this, arguments);
    if (B.armed) promise.then((result) => noteRead(performance.now(), result), () => {});
    return promise;
  };

  // A widget that reads its stream in a worker (ours, from a blob: URL):
  // the worker gets the same timestamps, taken on its own clock when each
  // read resolves, and hands them over in one message when the stream ends
  // (a message per read would add a task per read to the page measured),
  // with each read's size and whether it ended the stream. Its bytes it
  // keeps until the run is collected, after the page's cost was measured:
  // a flooded answer of 32k tokens is megabytes of SSE, and receiving them
  // cost the page measured about 11 ms (traced), which the floor, reading
  // on the page's own thread, never paid.
  const workerProbe = () => {
    const channel = new BroadcastChannel("__bench_reads");
    const read = ReadableStreamDefaultReader.prototype.read;
    let reads = [];
    let held = []; // [stream id, its reads' bytes] of the streams that ended
    ReadableStreamDefaultReader.prototype.read = function () {
      const promise = read.apply(this, arguments);
      promise.then(
        (result) => {
          reads.push([performance.timeOrigin + performance.now(), result.done ? null : result.value.slice()]);
          if (result.done) {
            const id = `${Math.random()}`;
            held.push([id, reads.map(([, value]) => value)]);
            channel.postMessage({ id, reads: reads.map(([t, v]) => [t, v ? v.byteLength : -1, !!v && endsTheStream(v)]) });
            reads = [];
          }
        },
        () => {},
      );
      return promise;
    };
    channel.onmessage = ({ data }) => {
      if (data !== "bytes") return;
      channel.postMessage({ bytes: held });
      held = [];
    };
  };
  const Worker = window.Worker;
  window.Worker = function (url, options) {
    if (String(url).startsWith("blob:") && options?.type !== "module") {
      const source = `const endsTheStream=${endsTheStream};(${workerProbe})();importScripts(${JSON.stringify(String(url))});`;
      url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
    }
    return new Worker(url, options);
  };
  window.Worker.prototype = Worker.prototype;
  // A worker's read stands in `B.chunks` as `{ id, i }` (its stream, and its
  // index among the stream's reads) until `B.collect` fetches the bytes.
  let fetched = null; // called with the held bytes once they come
  const readsChannel = new BroadcastChannel("__bench_reads");
  readsChannel.onmessage = ({ data }) => {
    if (data.bytes) return fetched?.(new Map(data.bytes));
    if (!B.armed) return;
    data.reads.forEach(([t, size, ends], i) => {
      const at = t - performance.timeOrigin;
      if (at < B.armedAt) return;
      B.reads.push(at, size);
      if (size < 0) return;
      B.chunks.push({ id: data.id, i });
      if (ends) B.lastByteAt = at;
    });
  };

  const nonSpace = (text) => text.replace(/\s+/g, "").length;

  /** The widget's root: our shadow root, or the peer's. */
  const rootOf = () => {
    const host = document.querySelector(config.host);
    return host && host.shadowRoot;
  };
  const laidOut = (el) => el && el.getBoundingClientRect().width > 0;
  const inputOf = () => {
    const root = rootOf();
    return root && root.querySelector(config.input);
  };
  const inputEnabled = (input) => input && !input.disabled && (config.input !== "#text-input" || input.isContentEditable);

  const checkReady = () => {
    if (!B.marks.click || B.marks.ready) return;
    const root = rootOf();
    const input = inputOf();
    if (inputEnabled(input) && root.activeElement === input) B.marks.ready = performance.now();
  };
  window.addEventListener(
    "click",
    () => {
      if (!B.marks.click) B.marks.click = performance.now();
    },
    true,
  );
  document.addEventListener("focusin", checkReady, true);
  // Focus moving inside a shadow root does not reach the document (the
  // event's target and related target are both the host there), so every
  // shadow root gets the listener too.
  const attachShadow = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function () {
    const root = attachShadow.apply(this, arguments);
    root.addEventListener("focusin", checkReady, true);
    return root;
  };

  if (config.startup) {
    const until = performance.now() + 30_000;
    const poll = () => {
      enterFrame();
      const now = performance.now();
      if (config.launcher && !B.marks.launcher) {
        const root = rootOf();
        const launcher = root && root.querySelector(config.launcher);
        if (laidOut(launcher)) {
          B.marks.launcher = now;
          if (config.clickAtOnce) launcher.click();
        }
      }
      if (config.inline && !B.marks.inline) {
        const input = inputOf();
        if (inputEnabled(input) && laidOut(input)) B.marks.inline = now;
      }
      checkReady();
      const done = (!config.launcher || B.marks.ready) && (!config.inline || B.marks.inline);
      if (!done && now < until) raf(poll);
    };
    raf(poll);
  }

  /**
   * Starts recording a stream: reads, changes to the answer's text, long
   * frames; with `withText` (latency), the text itself and each frame.
   */
  B.arm = (withText) => {
    B.armed = true;
    B.armedAt = performance.now();
    B.samples = withText ? [] : null;
    const root = rootOf() || document;
    let answer = null;
    const find = () => {
      if (!answer || !answer.isConnected) {
        const all = root.querySelectorAll(config.answer);
        answer = all[all.length - 1] || null;
      }
      return answer;
    };
    B.answer = find;
    new MutationObserver((records) => {
      const t = performance.now();
      const a = find();
      if (!a) return;
      let inside = false;
      for (const r of records) {
        if (a.contains(r.target)) {
          inside = true;
          break;
        }
      }
      if (!inside) return;
      const f = B.inFrame ? 1 : 0;
      B.muts.push(t, f);
      B.lastMutAt = t;
      if (B.samples) B.samples.push(t, f, nonSpace(a.textContent));
    }).observe(root, { childList: true, subtree: true, characterData: true });
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) B.longFrames.push(e.startTime, e.duration);
    }).observe({ type: "long-animation-frame" });
    B.counting = true;
    if (!withText) return;
    const loop = () => {
      enterFrame();
      if (!B.counting) return;
      B.frames.push(performance.now());
      raf(loop);
    };
    raf(loop);
  };

  /** Stops recording and hands everything back (the chunks as text). */
  B.collect = async () => {
    B.counting = false;
    B.armed = false;
    if (B.chunks.some((c) => !(c instanceof Uint8Array))) {
      const held = await new Promise((resolve) => {
        fetched = resolve;
        setTimeout(() => resolve(new Map()), 5000);
        readsChannel.postMessage("bytes");
      });
      B.chunks = B.chunks.map((c) => (c instanceof Uint8Array ? c : (held.get(c.id)?.[c.i] ?? new Uint8Array(0))));
    }
    const decoder = new TextDecoder();
    const texts = B.chunks.map((c) => decoder.decode(c, { stream: true }));
    const a = B.answer && B.answer();
    return {
      reads: B.reads,
      texts,
      lastByteAt: B.lastByteAt,
      lastMutAt: B.lastMutAt,
      longFrames: B.longFrames,
      muts: B.muts,
      samples: B.samples,
      frames: B.frames,
      painted: a ? nonSpace(a.textContent) : 0,
    };
  };
}
