//! No module imports another that imports it back.
//!
//! Each crate's module tree is read from its source: `mod name;` declarations from the crate
//! root down, and every path a module names (`use crate::a::b`, `crate::a::f()`, `super::x`).
//! A path counts as a dependency on the deepest module it reaches. Three kinds of reference are
//! not dependencies between modules: on the crate root (where crate-wide errors and re-exports
//! live), on the module itself, and on a module's own descendants (a parent holds its children).
//! Code under `#[cfg(test)]` is left out: a test may use anything. A cycle in what is left is a
//! failure that names the modules on it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module's path inside its crate: `["config", "rotas"]` for `crate::config::rotas`.
type ModulePath = Vec<String>;

#[derive(Debug)]
struct Module {
    file: PathBuf,
    /// Source with comments, strings and `#[cfg(test)]` items removed.
    code: String,
}

/// Reads the module tree of the crate whose root file is `root`.
fn module_tree(root: &Path) -> BTreeMap<ModulePath, Module> {
    let mut modules = BTreeMap::new();
    let mut pending = vec![(Vec::new(), root.to_owned(), true)];
    while let Some((path, file, is_root)) = pending.pop() {
        let text =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let code = without_test_items(&strip_comments_and_strings(&text));
        // Where this file's children live: beside a crate root or a mod.rs, else in a folder
        // named after the file.
        let dir = if is_root || file.file_name().is_some_and(|n| n == "mod.rs") {
            file.parent().unwrap().to_owned()
        } else {
            file.with_extension("")
        };
        for child in declared_modules(&code) {
            let candidates = [
                dir.join(format!("{child}.rs")),
                dir.join(&child).join("mod.rs"),
            ];
            let Some(child_file) = candidates.into_iter().find(|p| p.exists()) else {
                panic!("{}: mod {child}; has no file", file.display());
            };
            let mut child_path = path.clone();
            child_path.push(child);
            pending.push((child_path, child_file, false));
        }
        modules.insert(path, Module { file, code });
    }
    modules
}

/// Removes comments, string and character literals, keeping everything else (and line breaks).
fn strip_comments_and_strings(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && !is_ident_char(prev(&chars, i))
        {
            // A raw string: r"…" or r#"…"#, with as many #s closing as opening.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= chars.len() {
                    break;
                }
                if chars[j] == '"' && (0..hashes).all(|k| chars.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{1b}'), or a lifetime ('a), which stays.
            if next == Some('\\') {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
                out.push_str("' '");
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push_str("' '");
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn prev(chars: &[char], i: usize) -> char {
    if i == 0 { ' ' } else { chars[i - 1] }
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Removes each item marked `#[cfg(test)]`: up to its `;`, or its whole `{ … }` block.
fn without_test_items(code: &str) -> String {
    const MARK: &str = "#[cfg(test)]";
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find(MARK) {
        out.push_str(&rest[..at]);
        let item = &rest[at + MARK.len()..];
        let mut depth = 0usize;
        let mut end = item.len();
        for (i, c) in item.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    end = i + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

/// The words of `code`: identifiers, `::`, and single punctuation characters.
fn tokens(code: &str) -> Vec<String> {
    let chars: Vec<char> = code.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if is_ident_char(c) {
            let start = i;
            while i < chars.len() && is_ident_char(chars[i]) {
                i += 1;
            }
            tokens.push(chars[start..i].iter().collect());
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            tokens.push("::".to_owned());
            i += 2;
        } else {
            tokens.push(c.to_string());
            i += 1;
        }
    }
    tokens
}

/// `mod name;` declarations (not inline `mod name { … }` blocks).
fn declared_modules(code: &str) -> Vec<String> {
    let tokens = tokens(code);
    tokens
        .windows(3)
        .filter(|w| w[0] == "mod" && w[2] == ";")
        .map(|w| w[1].clone())
        .collect()
}

/// Every path the code names that starts at `crate`, `super` or `self`, with `use` trees
/// (`use crate::{a::b, c}`) expanded.
fn named_paths(code: &str) -> Vec<Vec<String>> {
    let tokens = tokens(code);
    let mut paths = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i] == "use" {
            let end = tokens[i..]
                .iter()
                .position(|t| t == ";")
                .map_or(tokens.len(), |p| i + p);
            expand_use_tree(&tokens[i + 1..end], &[], &mut paths);
            i = end;
            continue;
        }
        let starts_path = matches!(tokens[i].as_str(), "crate" | "super" | "self")
            && tokens.get(i + 1).is_some_and(|t| t == "::")
            && (i == 0 || tokens[i - 1] != "::");
        if starts_path {
            let mut path = vec![tokens[i].clone()];
            let mut j = i + 1;
            while tokens.get(j).is_some_and(|t| t == "::")
                && tokens
                    .get(j + 1)
                    .is_some_and(|t| t.chars().all(is_ident_char))
            {
                path.push(tokens[j + 1].clone());
                j += 2;
            }
            paths.push(path);
            i = j;
            continue;
        }
        i += 1;
    }
    paths
}

/// Expands one `use` tree (the tokens between `use` and `;`) into the paths it names.
fn expand_use_tree(tree: &[String], prefix: &[String], out: &mut Vec<Vec<String>>) {
    let mut path = prefix.to_vec();
    let mut i = 0;
    while i < tree.len() {
        match tree[i].as_str() {
            "::" => i += 1,
            "{" => {
                // Split the group at its top-level commas.
                let mut depth = 0;
                let mut start = i + 1;
                let mut j = i;
                while j < tree.len() {
                    match tree[j].as_str() {
                        "{" => depth += 1,
                        "}" => {
                            depth -= 1;
                            if depth == 0 {
                                expand_use_tree(&tree[start..j], &path, out);
                                break;
                            }
                        }
                        "," if depth == 1 => {
                            expand_use_tree(&tree[start..j], &path, out);
                            start = j + 1;
                        }
                        _ => {}
                    }
                    j += 1;
                }
                return;
            }
            "as" => break,
            "*" => break,
            word if word.chars().all(is_ident_char) => {
                path.push(word.to_owned());
                i += 1;
            }
            _ => i += 1,
        }
    }
    if !path.is_empty() {
        out.push(path);
    }
}

/// The module a path names from inside `from`, if it is another module of the crate that counts
/// as a dependency (see the module docs).
fn target(
    from: &ModulePath,
    path: &[String],
    modules: &BTreeMap<ModulePath, Module>,
) -> Option<ModulePath> {
    let mut absolute: ModulePath = match path.first()?.as_str() {
        "crate" => Vec::new(),
        "super" | "self" => from.clone(),
        _ => return None,
    };
    let mut rest = &path[1..];
    if path[0] == "super" {
        absolute.pop()?;
    }
    while rest.first().is_some_and(|s| s == "super") {
        absolute.pop()?;
        rest = &rest[1..];
    }
    absolute.extend(rest.iter().cloned());
    let deepest = (1..=absolute.len())
        .rev()
        .map(|n| absolute[..n].to_vec())
        .find(|p| modules.contains_key(p))?;
    let is_self_or_descendant = deepest.starts_with(from);
    (!is_self_or_descendant).then_some(deepest)
}

/// The cycles in the crate whose root file is `root`, each as its modules in order.
fn cycles(root: &Path) -> Vec<Vec<String>> {
    let modules = module_tree(root);
    let mut edges: BTreeMap<ModulePath, BTreeSet<ModulePath>> = BTreeMap::new();
    for (path, module) in &modules {
        if path.is_empty() {
            continue;
        }
        for named in named_paths(&module.code) {
            if let Some(to) = target(path, &named, &modules) {
                edges.entry(path.clone()).or_default().insert(to);
            }
        }
    }
    // For each module, a path back to itself through its dependencies, if there is one.
    let mut found: Vec<Vec<String>> = Vec::new();
    let mut reported: BTreeSet<BTreeSet<ModulePath>> = BTreeSet::new();
    for start in edges.keys() {
        if let Some(cycle) = path_back(start, &edges) {
            let members: BTreeSet<ModulePath> = cycle.iter().cloned().collect();
            if reported.insert(members) {
                found.push(
                    cycle
                        .iter()
                        .chain(std::iter::once(start))
                        .map(|p| format!("{} ({})", p.join("::"), modules[p].file.display()))
                        .collect(),
                );
            }
        }
    }
    found
}

/// The shortest chain of dependencies from `start` back to itself (breadth first).
fn path_back(
    start: &ModulePath,
    edges: &BTreeMap<ModulePath, BTreeSet<ModulePath>>,
) -> Option<Vec<ModulePath>> {
    let mut came_from: BTreeMap<ModulePath, ModulePath> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start.clone()]);
    while let Some(at) = queue.pop_front() {
        for next in edges.get(&at).into_iter().flatten() {
            if next == start {
                let mut chain = vec![at.clone()];
                let mut cursor = at.clone();
                while let Some(before) = came_from.get(&cursor) {
                    chain.push(before.clone());
                    cursor = before.clone();
                }
                chain.reverse();
                return Some(chain);
            }
            if !came_from.contains_key(next) && next != start {
                came_from.insert(next.clone(), at.clone());
                queue.push_back(next.clone());
            }
        }
    }
    None
}

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let mut problems = Vec::new();
    for root in crate::crate_roots() {
        for cycle in cycles(&root) {
            problems.push(format!("cycle: {}", cycle.join(" → ")));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_cycle_check_finds_a_cycle_and_ignores_what_is_not_one() {
    let dir = std::env::temp_dir().join(format!("stopline-modules-{}", std::process::id()));
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("config")).unwrap();
    let write = |name: &str, text: &str| std::fs::write(src.join(name), text).unwrap();
    write(
        "lib.rs",
        "pub mod config;\npub mod callout;\npub mod team;\npub type Result<T> = std::result::Result<T, ()>;\n",
    );
    // config ↔ callout: a cycle, one side through a `use` group, the other through a plain path.
    write(
        "config.rs",
        "mod rotas;\nuse crate::{callout::Policy, Result};\npub struct Config(Policy);\nfn f() { rotas::g() }\n",
    );
    write(
        "callout.rs",
        "pub struct Policy;\nfn f(c: &crate::config::Config) {}\n",
    );
    // A child using its parent, a parent using its child, the crate root, comments, strings
    // and tests: none of them is a cycle.
    write(
        "config/rotas.rs",
        "use super::Config;\npub fn g() {}\n// crate::team\nconst T: &str = \"crate::team::X\";\n",
    );
    write(
        "team.rs",
        "use crate::Result;\n#[cfg(test)]\nmod tests { use crate::config::Config; }\n",
    );
    let found = cycles(&src.join("lib.rs"));
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0][0].starts_with("callout") || found[0][0].starts_with("config"));
    assert_eq!(found[0].len(), 3, "{found:?}");
}
