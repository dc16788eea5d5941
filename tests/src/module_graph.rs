//! The import graph of a crate's source files, to keep it free of cycles.
//!
//! Every `.rs` file under `src/` is a module. A file depends on another when
//! it names it: a `use crate::…`/`use super::…` path, or such a path in its
//! code (types, calls, re-exports). Method calls name no module and do not
//! count. Code under `#[cfg(test)]` does not count either. Two graphs come
//! out: between files, where a file may still use what its ancestors define
//! (a child reading its parent's facade is how Rust modules are written),
//! and between the crate's top-level modules (`api`, `ws`, `storage`...).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// A module, by its path from the crate root (`["storage", "embedded", "wal"]`).
pub type ModulePath = Vec<String>;

/// Which modules each module names.
pub type Graph = BTreeMap<ModulePath, BTreeSet<ModulePath>>;

/// The file-to-file graph of the crate whose sources are in `src`.
pub fn file_graph(src: &Path) -> anyhow::Result<Graph> {
    let files = modules(src)?;
    let known: BTreeSet<ModulePath> = files.keys().cloned().collect();
    let mut graph = Graph::new();
    for (module, path) in &files {
        let text = std::fs::read_to_string(path)?;
        let file =
            syn::parse_file(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let mut names = Names {
            module: module.clone(),
            inline: Vec::new(),
            found: BTreeSet::new(),
        };
        names.visit_file(&file);
        let targets = names
            .found
            .into_iter()
            .filter_map(|p| longest_known(&known, &p))
            .filter(|t| t != module && !module.starts_with(t))
            .collect();
        graph.insert(module.clone(), targets);
    }
    Ok(graph)
}

/// The graph between the crate's top-level modules, from its file graph.
pub fn top_level(files: &Graph) -> Graph {
    let mut graph = Graph::new();
    for (from, targets) in files {
        let Some(a) = from.first() else { continue };
        for to in targets {
            if let Some(b) = to.first()
                && a != b
            {
                graph
                    .entry(vec![a.clone()])
                    .or_default()
                    .insert(vec![b.clone()]);
            }
        }
    }
    graph
}

/// Every cycle's modules (strongly connected components of more than one
/// module), each with the edges between them, `a -> b`, for the message.
pub fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    let mut tarjan = Tarjan::default();
    let nodes: BTreeSet<&ModulePath> = graph.keys().chain(graph.values().flatten()).collect();
    for node in nodes {
        if !tarjan.index.contains_key(node) {
            tarjan.visit(graph, node);
        }
    }
    tarjan
        .components
        .into_iter()
        .map(|component| {
            let set: BTreeSet<&ModulePath> = component.iter().collect();
            let mut edges = Vec::new();
            for from in &component {
                for to in graph.get(from).into_iter().flatten() {
                    if set.contains(to) {
                        edges.push(format!("{} -> {}", name(from), name(to)));
                    }
                }
            }
            edges.sort();
            edges
        })
        .collect()
}

fn name(module: &ModulePath) -> String {
    if module.is_empty() {
        "crate".into()
    } else {
        module.join("::")
    }
}

/// Each source file's module path.
fn modules(src: &Path) -> anyhow::Result<BTreeMap<ModulePath, PathBuf>> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(src)?.with_extension("");
                let mut module: ModulePath = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if matches!(
                    module.last().map(String::as_str),
                    Some("mod" | "lib" | "main")
                ) {
                    module.pop();
                }
                out.insert(module, path);
            }
        }
    }
    Ok(out)
}

fn longest_known(known: &BTreeSet<ModulePath>, path: &[String]) -> Option<ModulePath> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| known.contains(p))
}

/// The module paths one file names, resolved from the crate root.
struct Names {
    module: ModulePath,
    /// Inline (non-test) modules entered within the file.
    inline: Vec<String>,
    found: BTreeSet<ModulePath>,
}

impl Names {
    /// `segments` (a path as written) from the crate root, if it starts at
    /// `crate`, `super` or `self`.
    fn resolve(&self, segments: &[String]) -> Option<ModulePath> {
        let mut base: ModulePath = self.module.iter().chain(&self.inline).cloned().collect();
        let mut rest = segments;
        match rest.first().map(String::as_str) {
            Some("crate") => {
                base.clear();
                rest = &rest[1..];
            }
            Some("super" | "self") => {
                while let Some(first) = rest.first() {
                    match first.as_str() {
                        "super" => {
                            base.pop()?;
                        }
                        "self" => {}
                        _ => break,
                    }
                    rest = &rest[1..];
                }
            }
            _ => return None,
        }
        base.extend(rest.iter().cloned());
        Some(base)
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => self.found_path(prefix, Some(n.ident.to_string())),
            syn::UseTree::Rename(r) => self.found_path(prefix, Some(r.ident.to_string())),
            syn::UseTree::Glob(_) => self.found_path(prefix, None),
            syn::UseTree::Group(g) => {
                for tree in &g.items {
                    self.use_tree(prefix, tree);
                }
            }
        }
    }

    fn found_path(&mut self, prefix: &[String], last: Option<String>) {
        let segments: Vec<String> = prefix.iter().cloned().chain(last).collect();
        if let Some(path) = self.resolve(&segments) {
            self.found.insert(path);
        }
    }
}

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Meta>()
                .is_ok_and(|m| m.path().is_ident("test"))
    })
}

impl<'ast> Visit<'ast> for Names {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs: &[syn::Attribute] = match item {
            syn::Item::Mod(m) => &m.attrs,
            syn::Item::Fn(f) => &f.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Use(u) => &u.attrs,
            syn::Item::Struct(s) => &s.attrs,
            syn::Item::Enum(e) => &e.attrs,
            syn::Item::Const(c) => &c.attrs,
            syn::Item::Static(s) => &s.attrs,
            syn::Item::Trait(t) => &t.attrs,
            syn::Item::Type(t) => &t.attrs,
            _ => &[],
        };
        if !is_test_only(attrs) {
            syn::visit::visit_item(self, item);
        }
    }

    fn visit_item_mod(&mut self, module: &'ast syn::ItemMod) {
        if module.content.is_some() {
            self.inline.push(module.ident.to_string());
            syn::visit::visit_item_mod(self, module);
            self.inline.pop();
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &item.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if let Some(resolved) = self.resolve(&segments) {
            self.found.insert(resolved);
        }
        syn::visit::visit_path(self, path);
    }
}

/// Tarjan's strongly connected components.
#[derive(Default)]
struct Tarjan {
    next: usize,
    index: BTreeMap<ModulePath, usize>,
    low: BTreeMap<ModulePath, usize>,
    stack: Vec<ModulePath>,
    on_stack: BTreeSet<ModulePath>,
    components: Vec<Vec<ModulePath>>,
}

impl Tarjan {
    fn visit(&mut self, graph: &Graph, node: &ModulePath) {
        self.index.insert(node.clone(), self.next);
        self.low.insert(node.clone(), self.next);
        self.next += 1;
        self.stack.push(node.clone());
        self.on_stack.insert(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            if !self.index.contains_key(next) {
                self.visit(graph, next);
                let low = self.low[node].min(self.low[next]);
                self.low.insert(node.clone(), low);
            } else if self.on_stack.contains(next) {
                let low = self.low[node].min(self.index[next]);
                self.low.insert(node.clone(), low);
            }
        }
        if self.low[node] == self.index[node] {
            let mut component = Vec::new();
            while let Some(member) = self.stack.pop() {
                self.on_stack.remove(&member);
                let done = &member == node;
                component.push(member);
                if done {
                    break;
                }
            }
            if component.len() > 1 {
                self.components.push(component);
            }
        }
    }
}
