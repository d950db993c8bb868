//! The last steps of the widget's release build, after trunk has run cargo
//! and wasm-bindgen: drop the wasm exports no page can call, optimise the
//! wasm for size, and bundle and minify the glue.
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
//! the glue must not name a dropped export, the wasm must keep every other.

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

/// Slims `dist/`'s wasm and glue in place; `scratch` holds the steps between.
pub(crate) fn slim(tools: &Tools, dist: &Path, scratch: &Path) -> Result {
    let wasm = dist.join("ringside-chat-widget_bg.wasm");
    let glue = dist.join("ringside-chat-widget.js");
    fs::create_dir_all(scratch).map_err(|e| e.to_string())?;

    let bytes = fs::read(&wasm).map_err(|e| format!("reading {}: {e}", wasm.display()))?;
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
        .arg(&wasm)
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

    let raw_glue = fs::read_to_string(&glue).map_err(|e| e.to_string())?;
    // Beside the glue: it imports the widget's own JavaScript
    // (`#[wasm_bindgen(module)]`) from `snippets/`, which esbuild bundles
    // into the one glue file, so a page (and the npm package) loads the same
    // three files as before.
    let pruned_glue = dist.join("ringside-chat-widget.pruned.js");
    fs::write(&pruned_glue, without_classes(&raw_glue)).map_err(|e| e.to_string())?;
    run(tools.command("esbuild").arg(&pruned_glue).args([
        "--bundle",
        "--minify",
        "--format=esm",
        "--target=es2020",
        "--log-level=warning",
        "--allow-overwrite",
        &format!("--outfile={}", glue.display()),
    ]))?;
    fs::remove_file(&pruned_glue).map_err(|e| e.to_string())?;
    let snippets = dist.join("snippets");
    if snippets.exists() {
        fs::remove_dir_all(&snippets).map_err(|e| format!("{}: {e}", snippets.display()))?;
    }

    // The glue must not call what is gone, and must still call the rest.
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
    eprintln!(
        "slimmed the widget: {} unused exports dropped, {} kept",
        dropped.len(),
        kept.len()
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
    let mut reader = Reader { bytes: wasm, at: 8 };
    if wasm.get(..4) != Some(b"\0asm") {
        return Err("not a wasm module".into());
    }
    while reader.at < wasm.len() {
        let id = reader.byte()?;
        let size = reader.leb()? as usize;
        let end = reader.at + size;
        if id == 7 {
            let count = reader.leb()?;
            let mut names = Vec::new();
            for _ in 0..count {
                let len = reader.leb()? as usize;
                let name = reader.take(len)?;
                names.push(String::from_utf8(name.to_vec()).map_err(|e| e.to_string())?);
                reader.byte()?; // kind
                reader.leb()?; // index
            }
            return Ok(names);
        }
        reader.at = end;
    }
    Err("the wasm module has no export section".into())
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
}
