//! The architecture as a test: each module of `src/` imports only modules
//! of lower layers (src/lib.rs), so no two modules import each other and
//! nothing below the frontends reaches up into them.

use std::collections::BTreeMap;
use std::path::Path;

/// Lowest first; a module may use its own layer's and lower layers' modules.
const LAYERS: &[&[&str]] = &[
    &[
        "secret", "error", "env", "log", "random", "bounded", "calendar",
    ],
    &["token", "prompt", "http"],
    &["config"],
    &["store"],
    &["discovery"],
    &["grant"],
    &["resolver", "manager"],
    &["context"],
    &["protocol"],
    &["commands"],
    &["frontend"],
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// `crate::<module>` paths in a file, test modules left out.
fn uses(text: &str) -> Vec<String> {
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.match_indices("crate::")
        .map(|(i, _)| {
            text[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect::<String>()
        })
        .filter(|m| !m.is_empty() && m != "debug")
        .collect()
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn modules_import_only_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut imports: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for path in all {
        let rel = path.strip_prefix(&src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if top == "main" || top == "lib" {
            continue;
        }
        let from = layer(&top).unwrap_or_else(|| panic!("{top} is in no layer of this test"));
        for used in uses(&std::fs::read_to_string(&path).unwrap()) {
            if used == top {
                continue;
            }
            let to = layer(&used).unwrap_or_else(|| panic!("{used} is in no layer of this test"));
            assert!(
                to <= from,
                "{} uses crate::{used}, a higher layer",
                rel.display()
            );
            imports.entry(top.clone()).or_default().push(used);
        }
    }
    for (module, used) in &imports {
        for other in used {
            assert!(
                !imports.get(other).is_some_and(|u| u.contains(module)),
                "{module} and {other} import each other"
            );
        }
    }
}
