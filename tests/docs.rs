//! The documentation's links as a test: every link between the Markdown
//! files of the repository lands on a file that exists and, with a
//! `#fragment`, on a heading of that file; and every `README.md#anchor`
//! the program prints (doctor's fixes, config mistakes) or `install.sh`
//! shows names a heading of the README. Anchors are made from headings the
//! way GitHub makes them, so a renamed heading fails here, not in front of
//! a person following a pointer.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// GitHub's anchor for a heading: the text as rendered (link targets and
/// code marks dropped), lowercase, every character but letters, digits,
/// spaces, `-` and `_` removed, spaces turned into `-`.
fn anchor(heading: &str) -> String {
    strip_link_targets(heading)
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// `[text](target)` → `text`.
fn strip_link_targets(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        let Some(end) = rest[i..].find(')') else {
            break;
        };
        out.push_str(&rest[..i]);
        rest = &rest[i + end + 1..];
    }
    out.push_str(rest);
    out.replace('[', "")
}

/// The lines of a Markdown text outside fenced code blocks.
fn prose_lines(text: &str) -> Vec<(usize, &str)> {
    let mut fence: Option<&str> = None;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let marker = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m));
        match (fence, marker) {
            (None, Some(m)) => fence = Some(m),
            (Some(f), Some(m)) if f == m => fence = None,
            (None, None) => out.push((n + 1, line)),
            _ => {}
        }
    }
    out
}

/// Every heading's anchor, with GitHub's `-1`, `-2`, … for repeats.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    for (_, line) in prose_lines(text) {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if !(1..=6).contains(&hashes) || !line[hashes..].starts_with(' ') {
            continue;
        }
        let base = anchor(line[hashes..].trim().trim_end_matches('#').trim());
        let n = seen.entry(base.clone()).or_insert(0);
        out.insert(if *n == 0 {
            base.clone()
        } else {
            format!("{base}-{n}")
        });
        *n += 1;
    }
    out
}

/// A line with its inline code spans (`` `…` ``, ``` `` … `` ```) removed:
/// what looks like a link inside one is not a link.
fn without_code_spans(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let ticks = rest[start..].chars().take_while(|&c| c == '`').count();
        let after = &rest[start + ticks..];
        match after.find(&"`".repeat(ticks)) {
            Some(end) => rest = &after[end + ticks..],
            None => {
                rest = after;
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The targets of the inline links `[text](target)` of a Markdown text,
/// with their line numbers.
fn link_targets(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in prose_lines(text) {
        let line = without_code_spans(line);
        let mut rest = line.as_str();
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            let Some(end) = after.find(')') else { break };
            let target = after[..end].split_whitespace().next().unwrap_or("");
            out.push((n, target.to_string()));
            rest = &after[end..];
        }
    }
    out
}

/// What is wrong with the links of the Markdown file `doc`, whose text is
/// `text`: one line per link that lands nowhere.
fn broken_links(doc: &Path, text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for (line, target) in link_targets(text) {
        if target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        let (file, fragment) = match target.split_once('#') {
            Some((file, fragment)) => (file, Some(fragment)),
            None => (target.as_str(), None),
        };
        let path: PathBuf = if file.is_empty() {
            doc.to_path_buf()
        } else {
            doc.parent().unwrap_or(Path::new("")).join(file)
        };
        let here = format!("{}:{line}: ({target})", doc.display());
        if !path.exists() {
            problems.push(format!("{here}: no file {}", path.display()));
            continue;
        }
        let Some(fragment) = fragment else { continue };
        let target_text = if file.is_empty() {
            text.to_string()
        } else {
            std::fs::read_to_string(&path).unwrap_or_default()
        };
        if !anchors(&target_text).contains(fragment) {
            problems.push(format!("{here}: no heading makes #{fragment}"));
        }
    }
    problems
}

fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if !name.starts_with('.') && name != "target" {
                markdown_files(&path, out);
            }
        } else if name.ends_with(".md") {
            out.push(path);
        }
    }
}

#[test]
fn every_link_in_the_markdown_files_lands_on_a_file_and_heading() {
    let mut docs = Vec::new();
    markdown_files(root(), &mut docs);
    for must in [
        "README.md",
        "CONTRIBUTING.md",
        "SECURITY.md",
        "bench/README.md",
        "docs/design.md",
    ] {
        assert!(docs.contains(&root().join(must)), "{must} is missing");
    }
    let mut problems = Vec::new();
    let mut links = 0;
    for doc in &docs {
        let text = std::fs::read_to_string(doc).unwrap();
        links += link_targets(&text).len();
        problems.extend(
            broken_links(doc, &text)
                .into_iter()
                .map(|p| p.replace(&format!("{}/", root().display()), "")),
        );
    }
    assert!(links > 20, "only {links} links found: is the parser blind?");
    assert!(
        problems.is_empty(),
        "broken links:\n{}",
        problems.join("\n")
    );
}

/// `README.md#anchor` in what the program and `install.sh` show people,
/// and every bare `README.md` there, which should point at a heading.
fn readme_pointers(text: &str, comment: &str) -> Vec<(usize, Option<String>)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with(comment) {
            continue;
        }
        for (i, _) in line.match_indices("README.md") {
            let after = &line[i + "README.md".len()..];
            let fragment = after.strip_prefix('#').map(|f| {
                f.chars()
                    .take_while(|c| c.is_alphanumeric() || matches!(c, '-' | '_'))
                    .collect()
            });
            out.push((n + 1, fragment));
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_readme_pointer_the_program_shows_names_a_heading() {
    let readme = anchors(&std::fs::read_to_string(root().join("README.md")).unwrap());
    let mut sources = Vec::new();
    rust_files(&root().join("src"), &mut sources);
    let mut checked = Vec::new();
    for path in &sources {
        checked.push((path.clone(), "//"));
    }
    checked.push((root().join("install.sh"), "#"));
    let mut problems = Vec::new();
    let mut pointers = 0;
    for (path, comment) in checked {
        let text = std::fs::read_to_string(&path).unwrap();
        let shown = path.strip_prefix(root()).unwrap().display().to_string();
        for (line, fragment) in readme_pointers(&text, comment) {
            pointers += 1;
            match fragment {
                None => problems.push(format!(
                    "{shown}:{line}: README.md without #anchor: name the section"
                )),
                Some(f) if !readme.contains(&f) => {
                    problems.push(format!("{shown}:{line}: README.md#{f}: no such heading"))
                }
                Some(_) => {}
            }
        }
    }
    assert!(
        readme.contains("configuration-reference"),
        "doctor's CONFIG_DOCS names README.md#configuration-reference"
    );
    assert!(
        pointers > 0,
        "no README.md pointer found in src/ or install.sh"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn anchors_are_made_as_github_makes_them() {
    assert_eq!(anchor("Configuration reference"), "configuration-reference");
    assert_eq!(anchor("Forges and `init`"), "forges-and-init");
    assert_eq!(
        anchor("Providers in git's config"),
        "providers-in-gits-config"
    );
    assert_eq!(
        anchor("docker, podman, skopeo, buildah"),
        "docker-podman-skopeo-buildah"
    );
    assert_eq!(
        anchor("The build install.sh makes"),
        "the-build-installsh-makes"
    );
    assert_eq!(anchor("AI agents (MCP)"), "ai-agents-mcp");
    assert_eq!(anchor("A [linked](x.md) word_here"), "a-linked-word_here");
    let repeated = anchors("# Notes\n## Notes\n```\n# not a heading\n```\n");
    assert_eq!(repeated, BTreeSet::from(["notes".into(), "notes-1".into()]));
}

#[test]
fn a_link_to_a_missing_heading_or_file_is_reported() {
    let doc = root().join("README.md");
    let text = "# Here\n\n[ok](#here) [gone](#elsewhere) [file](NO-SUCH.md) \
                [other](SECURITY.md#no-such-heading) `[code](#not-a-link)`\n\
                ```\n[fenced](#not-a-link-either)\n```\n";
    let problems = broken_links(&doc, text);
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(problems[0].ends_with("no heading makes #elsewhere"));
    assert!(problems[1].contains("no file"));
    assert!(problems[2].ends_with("no heading makes #no-such-heading"));
}
