//! The workspace's crates import without cycles: between their source
//! files (a file may still use what its ancestor modules define) and
//! between each crate's top-level modules. A cycle ties modules together
//! so that none can change, be tested or be understood alone; the message
//! names every edge of it.

use std::path::{Path, PathBuf};

use streamplug_tests::module_graph::{cycles, file_graph, top_level};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace holds the tests crate")
        .to_path_buf()
}

/// Every crate of the workspace with sources of its own.
fn crates() -> Vec<PathBuf> {
    let root = workspace();
    let mut out: Vec<PathBuf> = ["host", "wire", "sdk", "bench", "tests"]
        .iter()
        .map(|c| root.join(c).join("src"))
        .collect();
    for entry in std::fs::read_dir(root.join("plugins")).unwrap() {
        let src = entry.unwrap().path().join("src");
        if src.is_dir() {
            out.push(src);
        }
    }
    out
}

#[test]
fn no_crate_has_an_import_cycle_between_files_or_top_level_modules() {
    let mut found = Vec::new();
    for src in crates() {
        let files = file_graph(&src).unwrap();
        assert!(files.len() > 1 || !src.ends_with("host/src"), "host parsed");
        for (level, graph) in [
            ("files", files.clone()),
            ("top-level modules", top_level(&files)),
        ] {
            for cycle in cycles(&graph) {
                found.push(format!(
                    "{} ({level}):\n  {}",
                    src.display(),
                    cycle.join("\n  ")
                ));
            }
        }
    }
    assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
}

#[test]
fn the_check_sees_a_cycle_through_a_use_a_path_and_a_parent() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("a")).unwrap();
    std::fs::write(src.join("lib.rs"), "pub mod a;\npub mod b;\n").unwrap();
    // A child using its parent's facade is not a cycle ...
    std::fs::write(
        src.join("a/mod.rs"),
        "pub mod x;\npub use x::X;\npub struct A;\n",
    )
    .unwrap();
    std::fs::write(src.join("a/x.rs"), "use super::A;\npub struct X(pub A);\n").unwrap();
    // ... nor is code under #[cfg(test)] ...
    std::fs::write(
        src.join("b.rs"),
        "pub struct B;\n#[cfg(test)]\nmod tests { use crate::a::x::X; }\n",
    )
    .unwrap();
    assert!(cycles(&file_graph(src).unwrap()).is_empty());
    // ... but a sibling naming `b` in code while `b` imports it is.
    std::fs::write(
        src.join("b.rs"),
        "use crate::a::x::X;\npub struct B(pub X);\n",
    )
    .unwrap();
    std::fs::write(
        src.join("a/x.rs"),
        "use super::A;\npub struct X(pub A);\npub fn b(b: crate::b::B) -> crate::b::B { b }\n",
    )
    .unwrap();
    let files = file_graph(src).unwrap();
    assert_eq!(
        cycles(&files),
        [vec!["a::x -> b".to_owned(), "b -> a::x".to_owned()]]
    );
    assert_eq!(
        cycles(&top_level(&files)),
        [vec!["a -> b".to_owned(), "b -> a".to_owned()]]
    );
}
