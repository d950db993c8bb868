//! A benchmark (never run in CI; `cargo xtask bench` runs it): the SSE
//! parser's throughput natively, on a realistic chat stream read one frame at
//! a time (a paced stream), in 16 KiB reads (a flooded one), and one byte at a
//! time (the worst case). The stream is the one the wasm bench in
//! `bench/sse-wasm` parses in Chromium.
//!
//! ```sh
//! cargo bench -p ringside-bench --bench sse
//! ```

#[path = "../../sse-wasm/src/stream.rs"]
mod stream;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use stream::Reads;

/// Tokens in the benchmark's answer: a long answer, about 1 MB of stream.
const TOKENS: usize = 4000;

fn sse(c: &mut Criterion) {
    let frames = stream::chat_frames(TOKENS);
    let whole = frames.concat();
    let mut group = c.benchmark_group("sse");
    group.throughput(Throughput::Bytes(whole.len() as u64));
    for (name, reads) in [
        ("frame_reads", Reads::Frames),
        ("16k_reads", Reads::Bytes(16 * 1024)),
        ("1_byte_reads", Reads::Bytes(1)),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| stream::parse(black_box(&frames), black_box(&whole), reads));
        });
    }
    group.finish();
}

criterion_group!(benches, sse);
criterion_main!(benches);
