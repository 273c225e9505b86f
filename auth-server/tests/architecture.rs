//! The layout rules of docs/ARCHITECTURE.md, checked on the source: no file
//! imports one that (through others) imports it back, no handler module
//! imports another feature's handlers, and `config.rs` imports nothing from
//! the domain. A change that breaks one fails here, naming the files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `src/`, by its module path (`sessions::sign_in`).
fn modules(src: &Path) -> BTreeMap<String, PathBuf> {
    fn walk(dir: &Path, prefix: &str, out: &mut BTreeMap<String, PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read src") {
            let path = entry.expect("entry").path();
            let name = path
                .file_stem()
                .and_then(|n| n.to_str())
                .expect("utf-8 name")
                .to_owned();
            if path.is_dir() {
                walk(&path, &format!("{prefix}{name}::"), out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let module = match name.as_str() {
                    "mod" => prefix.trim_end_matches("::").to_owned(),
                    "lib" | "main" => continue,
                    _ => format!("{prefix}{name}"),
                };
                out.insert(module, path);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(src, "", &mut out);
    out
}

/// The `crate::…` paths a file names (in `use` lines, with one level of
/// braces expanded, and inline paths), outside its `#[cfg(test)]` module.
fn crate_paths(text: &str) -> Vec<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    let is_path_char = |c: char| c.is_alphanumeric() || c == '_' || c == ':';
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let prefix: String = rest.chars().take_while(|c| is_path_char(*c)).collect();
        let after = &rest[prefix.len()..];
        let prefix = prefix.trim_end_matches(':').to_owned();
        match after.strip_prefix('{') {
            Some(group) => {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                for item in group.split(',') {
                    let name = item.split_whitespace().next().unwrap_or_default();
                    let name: String = name.chars().take_while(|c| is_path_char(*c)).collect();
                    match name.as_str() {
                        "" => {}
                        "self" => paths.push(prefix.clone()),
                        name if prefix.is_empty() => paths.push(name.to_owned()),
                        name => paths.push(format!("{prefix}::{name}")),
                    }
                }
            }
            None => paths.push(prefix),
        }
    }
    paths
}

#[test]
fn grouped_imports_are_read_item_by_item() {
    assert_eq!(
        crate_paths("use crate::accounts::{self, admin_routes as admin,\n routes};"),
        ["accounts", "accounts::admin_routes", "accounts::routes"]
    );
    assert_eq!(
        crate_paths("let x = crate::keys::store::Seed::Generate;"),
        ["keys::store::Seed::Generate"]
    );
}

/// The module a path lands in: its longest prefix that is a file.
fn target(path: &str, modules: &BTreeMap<String, PathBuf>) -> Option<String> {
    let parts: Vec<&str> = path.split("::").collect();
    (1..=parts.len())
        .rev()
        .map(|n| parts[..n].join("::"))
        .find(|candidate| modules.contains_key(candidate))
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules = modules(&src);
    modules
        .iter()
        .map(|(module, path)| {
            let text = std::fs::read_to_string(path).expect("read module");
            let edges = crate_paths(&text)
                .iter()
                .filter_map(|p| target(p, &modules))
                .filter(|t| t != module)
                .collect();
            (module.clone(), edges)
        })
        .collect()
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let graph = graph();
    // Depth-first search for a back edge; report the cycle it closes.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, &graph, &mut Vec::new(), &mut done) {
            panic!("import cycle: {}", cycle.join(" -> "));
        }
    }
    assert!(graph.len() > 30, "the walk found the modules");
}

#[test]
fn handlers_import_no_other_features_handlers_and_config_no_domain() {
    let graph = graph();
    let is_handlers =
        |m: &str| m.ends_with("::routes") || m.ends_with("::admin_routes") || m == "oauth::gateway";
    let feature = |m: &str| m.split("::").next().unwrap_or_default().to_owned();
    for (module, edges) in &graph {
        if is_handlers(module) {
            for target in edges.iter().filter(|t| is_handlers(t)) {
                assert_eq!(
                    feature(module),
                    feature(target),
                    "{module} imports {target}: handlers call the domain, not other handlers"
                );
            }
        }
    }
    let config = &graph["config"];
    assert!(
        config.is_empty(),
        "config.rs imports from the crate: {config:?}"
    );
}
