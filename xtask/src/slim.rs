//! The last steps of the widget's release build, after trunk has run cargo:
//! cut the answers chunk out of the linked wasm, generate the bindings,
//! drop the wasm exports no page can call, optimise both wasm files for
//! size, and bundle and minify the glue.
//!
//! Why a chunk: the parser and the DOM builder of answers and their rating
//! (`src/chunk.rs`) are a sixth of the wasm, and a visitor needs them only
//! once an answer shows. wasm-split cuts the module at the `#[wasm_split]` function into a
//! main module and a chunk that imports the main one's memory, function
//! table and stack pointer: no second allocator or runtime, unlike a second
//! crate would bring. It reads the linker's relocations, so the wasm is
//! linked with `--emit-relocs` (see `build_widget`), and it runs before
//! wasm-bindgen, which then sees only the main module; trunk's own bindgen
//! output is replaced.
//!
//! Why drop exports: leptos depends on server_fn, which depends on
//! wasm-streams, whose `#[wasm_bindgen]` classes (`IntoUnderlyingSource`, …)
//! are exported by every module that links the crate, used or not. The widget
//! never hands a Rust stream to JavaScript, so their exports, their code and
//! their JavaScript classes are dead weight that no linker can see. We remove
//! the exports with binaryen's `wasm-metadce`, let `wasm-opt` drop the code
//! only they reached, and take the classes' three top-level statements out of
//! the glue (esbuild cannot: registering a class's `Symbol.dispose` and its
//! `FinalizationRegistry` count as side effects). What is left is checked:
//! the glue must not name a dropped export, the wasm must keep every other,
//! and the chunk must import only what the main module exports.

use std::fs;
use std::path::Path;

use crate::Result;
use crate::process::run;
use crate::setup::Tools;

/// The wasm-bindgen classes no page uses, as the glue names them; their wasm
/// exports are prefixed with the name in lower case
/// (`intounderlyingsource_pull`, `__wbg_intounderlyingsource_free`).
const UNUSED_CLASSES: [&str; 3] = [
    "IntoUnderlyingByteSource",
    "IntoUnderlyingSink",
    "IntoUnderlyingSource",
];

/// `wasm-opt` for size. `--low-memory-unused`: Rust puts the stack first
/// (growing down to address 0), so the lowest KiB is only ever reached by
/// a stack overflow, and binaryen may fold constant offsets into loads.
const WASM_OPT: [&str; 5] = [
    "-Oz",
    "--converge",
    "--low-memory-unused",
    "--strip-debug",
    "--strip-producers",
];

/// The answers chunk's file in `dist/` is this, its hash (16 hex digits)
/// and `.wasm`. A chunk must only ever meet the main module it was cut from:
/// it writes its functions into the main module's table at slots that
/// build chose, and calls the main module's through others, so a chunk from
/// another build (a CDN or a browser cache that kept the old file beside a
/// new main module) would call the wrong functions rather than fail. With
/// the hash in its name, a new build's glue asks for a file no cache holds.
pub(crate) const CHUNK_PREFIX: &str = "ringside-chat-answers-";

/// Whether `name` is an answers chunk's file name (`CHUNK_PREFIX`, hex, `.wasm`).
pub(crate) fn is_chunk(name: &str) -> bool {
    name.strip_prefix(CHUNK_PREFIX)
        .and_then(|rest| rest.strip_suffix(".wasm"))
        .is_some_and(|hash| !hash.is_empty() && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The answers chunk's file name in `dist`, if it was built.
pub(crate) fn chunk_file(dist: &Path) -> Option<String> {
    fs::read_dir(dist)
        .ok()?
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .find(|name| is_chunk(name))
}

/// The chunk's name as wasm-split writes it (`split_<module>.wasm`, for
/// `#[wasm_split(answers)]`), which its loader fetches.
const SPLIT_CHUNK: &str = "split_answers.wasm";

/// Builds `dist/`'s wasm files and glue from `linked` (cargo's output, with
/// relocations); `scratch` holds the steps between.
pub(crate) fn slim(tools: &Tools, linked: &Path, dist: &Path, scratch: &Path) -> Result {
    let split = scratch.join("split");
    let bindgen = scratch.join("bindgen");
    for dir in [&split, &bindgen] {
        let _ = fs::remove_dir_all(dir);
        fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    run(tools
        .command("wasm-split-cli")
        .args(["--target", "web", "--out-name", "ringside-chat-widget"])
        .arg(linked)
        .arg(&split))?;
    run(tools
        .command("wasm-bindgen")
        .args([
            "--target",
            "web",
            // The chunk imports these from the main module.
            "--keep-lld-exports",
            "--no-demangle",
            "--out-name",
            "ringside-chat-widget",
            "--out-dir",
        ])
        .arg(&bindgen)
        .arg(split.join("ringside-chat-widget.wasm")))?;
    let wasm = dist.join("ringside-chat-widget_bg.wasm");
    let bytes = fs::read(bindgen.join("ringside-chat-widget_bg.wasm"))
        .map_err(|e| format!("reading the bindgen output: {e}"))?;
    let exports = export_names(&bytes)?;
    let (dropped, kept): (Vec<_>, Vec<_>) = exports.iter().partition(|name| is_unused(name));
    let graph = kept
        .iter()
        .map(|name| format!(r#"{{"name":"export:{name}","root":true,"export":"{name}"}}"#))
        .collect::<Vec<_>>()
        .join(",");
    let graph_file = scratch.join("exports.json");
    fs::write(&graph_file, format!("[{graph}]")).map_err(|e| e.to_string())?;

    let pruned = scratch.join("pruned.wasm");
    run(tools
        .command("wasm-metadce")
        .arg(bindgen.join("ringside-chat-widget_bg.wasm"))
        .arg("--graph-file")
        .arg(&graph_file)
        .arg("-o")
        .arg(&pruned)
        // It prints the graph's unused nodes: the dropped exports.
        .stdout(std::process::Stdio::null()))?;
    run(tools
        .command("wasm-opt")
        .args(WASM_OPT)
        .arg(&pruned)
        .arg("-o")
        .arg(&wasm))?;
    let optimised = scratch.join(SPLIT_CHUNK);
    run(tools
        .command("wasm-opt")
        .args(WASM_OPT)
        .arg(split.join(SPLIT_CHUNK))
        .arg("-o")
        .arg(&optimised))?;
    // The chunk's name carries its hash (see `CHUNK_PREFIX`); another
    // build's chunk goes.
    let chunk_bytes = fs::read(&optimised).map_err(|e| e.to_string())?;
    let chunk_name = format!(
        "{CHUNK_PREFIX}{:016x}.wasm",
        crate::setup::fnv1a(&chunk_bytes)
    );
    for entry in fs::read_dir(dist).map_err(|e| e.to_string())?.flatten() {
        if is_chunk(&entry.file_name().to_string_lossy()) {
            fs::remove_file(entry.path()).map_err(|e| e.to_string())?;
        }
    }
    let chunk = dist.join(&chunk_name);
    fs::write(&chunk, &chunk_bytes).map_err(|e| e.to_string())?;

    // The chunk's loader, which the glue imports, fetches it by that name.
    let link = fs::read_to_string(split.join("__wasm_split.js")).map_err(|e| e.to_string())?;
    let quoted = format!("\"./{SPLIT_CHUNK}\"");
    if !link.contains(&quoted) {
        return Err(format!("wasm-split's loader does not fetch {SPLIT_CHUNK}"));
    }
    fs::write(
        bindgen.join("__wasm_split.js"),
        link.replace(&quoted, &format!("\"./{chunk_name}\"")),
    )
    .map_err(|e| e.to_string())?;

    // The glue, pruned in place so that the loader's import of it
    // (`./ringside-chat-widget.js`, for the memory and table) is the same
    // file: esbuild bundles the glue, the loader and the widget's own
    // JavaScript (`#[wasm_bindgen(module)]`, in `snippets/`) into one file,
    // so a page (and the npm package) loads the glue, the wasm and, later,
    // the chunk.
    let bound_glue = bindgen.join("ringside-chat-widget.js");
    let raw_glue = fs::read_to_string(&bound_glue).map_err(|e| e.to_string())?;
    fs::write(&bound_glue, without_classes(&raw_glue)).map_err(|e| e.to_string())?;
    let glue = dist.join("ringside-chat-widget.js");
    run(tools.command("esbuild").arg(&bound_glue).args([
        "--bundle",
        "--minify",
        "--format=esm",
        "--target=es2020",
        "--log-level=warning",
        "--allow-overwrite",
        &format!("--outfile={}", glue.display()),
    ]))?;
    // trunk's bindings, replaced by the ones above.
    let snippets = dist.join("snippets");
    if snippets.exists() {
        fs::remove_dir_all(&snippets).map_err(|e| format!("{}: {e}", snippets.display()))?;
    }

    // The glue must not call what is gone, and must still call the rest;
    // the chunk must find everything it imports.
    let slim_glue = fs::read_to_string(&glue).map_err(|e| e.to_string())?;
    if let Some(name) = dropped
        .iter()
        .find(|name| slim_glue.contains(name.as_str()))
    {
        return Err(format!("the glue still calls the dropped export {name}"));
    }
    let left = export_names(&fs::read(&wasm).map_err(|e| e.to_string())?)?;
    if let Some(name) = kept.iter().find(|name| !left.contains(name)) {
        return Err(format!("wasm-opt dropped the export {name} the glue calls"));
    }
    let imports = import_names(&fs::read(&chunk).map_err(|e| e.to_string())?)?;
    if let Some(name) = imports.iter().find(|name| !left.contains(name)) {
        return Err(format!(
            "the answers chunk imports {name}, which the main module does not export"
        ));
    }
    eprintln!(
        "slimmed the widget: {} unused exports dropped, {} kept; the answers chunk imports {}",
        dropped.len(),
        kept.len(),
        imports.len()
    );
    Ok(())
}

/// The glue without the unused classes. wasm-bindgen writes each top-level
/// statement from column 0; a class is `export class X {…}`, then
/// `if (Symbol.dispose) X.prototype…` and `const XFinalization = …`.
fn without_classes(glue: &str) -> String {
    let mut statements: Vec<String> = Vec::new();
    for line in glue.split_inclusive('\n') {
        let starts = line.starts_with(|c: char| !c.is_whitespace() && !"})]".contains(c));
        match statements.last_mut() {
            Some(statement) if !starts => statement.push_str(line),
            _ => statements.push(line.to_string()),
        }
    }
    statements
        .into_iter()
        .filter(|statement| {
            !UNUSED_CLASSES.iter().any(|class| {
                statement.starts_with(&format!("export class {class} "))
                    || statement.starts_with(&format!("if (Symbol.dispose) {class}.prototype"))
                    || statement.starts_with(&format!("const {class}Finalization "))
            })
        })
        .collect()
}

fn is_unused(export: &str) -> bool {
    let name = export.strip_prefix("__wbg_").unwrap_or(export);
    UNUSED_CLASSES.iter().any(|class| {
        name.strip_prefix(&class.to_lowercase())
            .is_some_and(|rest| rest.starts_with('_'))
    })
}

/// The names in a wasm module's export section.
fn export_names(wasm: &[u8]) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let found = read_section(wasm, 7, |reader| {
        let count = reader.leb()?;
        for _ in 0..count {
            names.push(reader.name()?);
            reader.byte()?; // kind
            reader.leb()?; // index
        }
        Ok(())
    })?;
    if !found {
        return Err("the wasm module has no export section".into());
    }
    Ok(names)
}

/// The field names of a wasm module's imports (whatever their module).
fn import_names(wasm: &[u8]) -> Result<Vec<String>> {
    let mut names = Vec::new();
    read_section(wasm, 2, |reader| {
        let count = reader.leb()?;
        for _ in 0..count {
            reader.name()?; // the module
            names.push(reader.name()?);
            match reader.byte()? {
                // a function: its type
                0 => drop(reader.leb()?),
                // a table: its element type, then limits
                1 => {
                    reader.byte()?;
                    reader.limits()?;
                }
                2 => reader.limits()?,
                // a global: its type and mutability
                3 => drop(reader.take(2)?),
                kind => return Err(format!("an import of unknown kind {kind}")),
            }
        }
        Ok(())
    })?;
    Ok(names)
}

/// Runs `read` on the section `id` of a wasm module; false if it has none.
fn read_section(
    wasm: &[u8],
    id: u8,
    mut read: impl FnMut(&mut Reader<'_>) -> Result,
) -> Result<bool> {
    if wasm.get(..4) != Some(b"\0asm") {
        return Err("not a wasm module".into());
    }
    let mut reader = Reader { bytes: wasm, at: 8 };
    while reader.at < wasm.len() {
        let section = reader.byte()?;
        let size = reader.leb()? as usize;
        let end = reader.at + size;
        if section == id {
            read(&mut reader)?;
            return Ok(true);
        }
        reader.at = end;
    }
    Ok(false)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, len: usize) -> Result<&[u8]> {
        let part = self
            .bytes
            .get(self.at..self.at + len)
            .ok_or("the wasm module ends early")?;
        self.at += len;
        Ok(part)
    }

    fn name(&mut self) -> Result<String> {
        let len = self.leb()? as usize;
        String::from_utf8(self.take(len)?.to_vec()).map_err(|e| e.to_string())
    }

    /// A table's or memory's limits: flags, minimum, and maximum if flagged.
    fn limits(&mut self) -> Result {
        let flags = self.byte()?;
        self.leb()?;
        if flags & 1 == 1 {
            self.leb()?;
        }
        Ok(())
    }

    fn byte(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn leb(&mut self) -> Result<u64> {
        let (mut value, mut shift) = (0u64, 0);
        loop {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
            shift += 7;
            if shift > 63 {
                return Err("a malformed LEB128 number in the wasm module".into());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_stream_classes_are_unused() {
        assert!(is_unused("intounderlyingsource_pull"));
        assert!(is_unused("__wbg_intounderlyingsink_free"));
        assert!(is_unused("intounderlyingbytesource_autoAllocateChunkSize"));
        assert!(!is_unused("mount"));
        assert!(!is_unused("__wbg_chathandle_free"));
        assert!(!is_unused("intounderlyingsourcery"));
    }

    #[test]
    fn drops_the_classes_statements_and_nothing_else() {
        let glue = "export class ChatHandle {\n    free() {\n        wasm.a();\n    }\n}\n\
            if (Symbol.dispose) ChatHandle.prototype[Symbol.dispose] = ChatHandle.prototype.free;\n\
            export class IntoUnderlyingSink {\n    free() {\n        wasm.b();\n    }\n}\n\
            if (Symbol.dispose) IntoUnderlyingSink.prototype[Symbol.dispose] = IntoUnderlyingSink.prototype.free;\n\
            \n\
            const IntoUnderlyingSinkFinalization = (typeof FinalizationRegistry === 'undefined')\n\
            \x20   ? { register: () => {}, unregister: () => {} }\n\
            \x20   : new FinalizationRegistry(ptr => wasm.b(ptr, 1));\n\
            export function mount() {}\n";
        let slim = without_classes(glue);
        assert!(!slim.contains("IntoUnderlyingSink"), "{slim}");
        assert!(!slim.contains("wasm.b"), "{slim}");
        assert!(
            slim.starts_with("export class ChatHandle {\n    free() {"),
            "{slim}"
        );
        assert!(slim.contains("ChatHandle.prototype.free;\n"), "{slim}");
        assert!(slim.ends_with("export function mount() {}\n"), "{slim}");
    }

    #[test]
    fn reads_the_export_section() {
        // (module (func) (export "mount" (func 0)) (export "memory" (memory 0)) (memory 1))
        let module = [
            b"\0asm".as_slice(),
            &[1, 0, 0, 0],
            &[1, 4, 1, 0x60, 0, 0], // type section: () -> ()
            &[3, 2, 1, 0],          // function section
            &[5, 3, 1, 0, 1],       // memory section
            &[7, 18, 2, 5],
            b"mount",
            &[0, 0, 6],
            b"memory",
            &[2, 0],
            &[10, 4, 1, 2, 0, 0x0b], // code section
        ]
        .concat();
        assert_eq!(export_names(&module).unwrap(), ["mount", "memory"]);
        assert!(export_names(b"not wasm").is_err());
    }

    #[test]
    fn a_chunks_name_is_the_prefix_a_hash_and_wasm() {
        assert!(is_chunk("ringside-chat-answers-0123456789abcdef.wasm"));
        assert!(!is_chunk("ringside-chat-answers-.wasm"));
        assert!(!is_chunk("ringside-chat-answers-../x.wasm"));
        assert!(!is_chunk("ringside-chat-answers-0a.js"));
        assert!(!is_chunk("ringside-chat-widget_bg.wasm"));
    }

    #[test]
    fn reads_the_import_section_of_every_kind() {
        // (import "m" "f" (func)) (import "m" "t" (table 1 funcref))
        // (import "m" "mem" (memory 1 2)) (import "m" "g" (global (mut i32)))
        let module = [
            b"\0asm".as_slice(),
            &[1, 0, 0, 0],
            &[1, 4, 1, 0x60, 0, 0],
            &[2, 32, 4],
            &[1, b'm', 1, b'f', 0, 0],
            &[1, b'm', 1, b't', 1, 0x70, 0, 1],
            &[1, b'm', 3, b'm', b'e', b'm', 2, 1, 1, 2],
            &[1, b'm', 1, b'g', 3, 0x7f, 1],
        ]
        .concat();
        assert_eq!(import_names(&module).unwrap(), ["f", "t", "mem", "g"]);
        // A module without imports imports nothing.
        assert!(import_names(&module[..8]).unwrap().is_empty());
    }
}
