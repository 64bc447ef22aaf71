//! The architecture invariants of the README, checked against the crate graph that
//! `cargo metadata` reports (from `Cargo.lock`, so the check needs no network), so that a
//! dependency that breaks one fails a test rather than waiting for a reviewer to notice.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// The resolved graph: package name to the names of its dependencies of the given kind (normal
/// dependencies only, or every kind: dev and build too).
struct Graph {
    normal: BTreeMap<String, BTreeSet<String>>,
    any: BTreeMap<String, BTreeSet<String>>,
}

fn graph() -> Graph {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("cargo metadata's JSON");
    let name_of: BTreeMap<&str, &str> = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap_or(""),
                p["name"].as_str().unwrap_or(""),
            )
        })
        .collect();
    let mut graph = Graph {
        normal: BTreeMap::new(),
        any: BTreeMap::new(),
    };
    for node in metadata["resolve"]["nodes"]
        .as_array()
        .expect("the resolved graph")
    {
        let name = name_of[node["id"].as_str().unwrap_or("")].to_string();
        for dep in node["deps"].as_array().expect("deps") {
            let dep_name = name_of[dep["pkg"].as_str().unwrap_or("")].to_string();
            let kinds = dep["dep_kinds"].as_array().expect("dep_kinds");
            if kinds.iter().any(|k| k["kind"].is_null()) {
                let normal = graph.normal.entry(name.clone()).or_default();
                normal.insert(dep_name.clone());
            }
            graph.any.entry(name.clone()).or_default().insert(dep_name);
        }
    }
    graph
}

/// Every package `root` depends on, directly or not, through the edges of `edges`.
fn closure(edges: &BTreeMap<String, BTreeSet<String>>, root: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![root.to_string()];
    while let Some(package) = stack.pop() {
        for dep in edges.get(&package).into_iter().flatten() {
            if seen.insert(dep.clone()) {
                stack.push(dep.clone());
            }
        }
    }
    seen
}

const WORKSPACE: [&str; 5] = [
    "colony",
    "colony-model",
    "colony-testgen",
    "colony-generated-tests",
    "xtask",
];

/// Crates that would give the core an async runtime, threads of its own, or I/O beyond the
/// standard library's, none of which a sans-IO core may use.
const RUNTIMES: [&str; 6] = ["tokio", "async-std", "smol", "futures", "mio", "rayon"];

#[test]
fn the_product_depends_on_no_verification_crate_and_no_runtime() {
    let graph = graph();
    let product = closure(&graph.normal, "colony");
    let forbidden: Vec<&str> = WORKSPACE
        .iter()
        .chain(&["stateright"])
        .chain(&RUNTIMES)
        .copied()
        .filter(|name| product.contains(*name))
        .collect();
    assert!(
        forbidden.is_empty(),
        "the core (impl/) depends on {forbidden:?}: it must carry no verification machinery and \
         no async runtime or I/O"
    );
}

#[test]
fn the_model_does_not_depend_on_the_code_it_judges() {
    let graph = graph();
    let model = closure(&graph.any, "colony-model");
    assert!(
        !model.contains("colony"),
        "colony-model depends on colony: the judge would be derived from what it judges"
    );
}

#[test]
fn the_generated_tests_run_the_product_and_the_generator_does_not() {
    let graph = graph();
    let generated = closure(&graph.any, "colony-generated-tests");
    assert!(
        generated.contains("colony"),
        "the generated tests run the core"
    );
    let generator = closure(&graph.any, "colony-testgen");
    assert!(
        !generator.contains("colony"),
        "colony-testgen depends on colony: expectations must come from the model, not the code"
    );
}
