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

/// The workspace's verification crates: the product must carry none of them.
const VERIFICATION: [&str; 5] = [
    "colony-model",
    "colony-testgen",
    "colony-generated-tests",
    "xtask",
    "stateright",
];

/// Crates that would give a crate an async runtime, threads of its own, or I/O beyond the
/// standard library's: the core uses none (it does no I/O at all), and the node uses none (its
/// host is sans-IO and its driver is called by whichever runtime runs it).
const RUNTIMES: [&str; 6] = ["tokio", "async-std", "smol", "futures", "mio", "rayon"];

/// The packages of the product: those whose manifest is under `impl/`.
fn product_packages() -> Vec<String> {
    let manifests =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../impl")).expect("impl/ lists");
    let mut names = Vec::new();
    for entry in manifests {
        let manifest = entry.expect("an entry of impl/").path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let name = text
            .lines()
            .find_map(|line| line.strip_prefix("name = \""))
            .and_then(|rest| rest.strip_suffix('"'))
            .unwrap_or_else(|| panic!("{} names its package", manifest.display()));
        names.push(name.to_string());
    }
    names.sort();
    names
}

fn assert_depends_on_none(graph: &Graph, package: &str, forbidden: &[&str], why: &str) {
    let closure = closure(&graph.normal, package);
    let found: Vec<&str> = forbidden
        .iter()
        .copied()
        .filter(|name| closure.contains(*name))
        .collect();
    assert!(found.is_empty(), "{package} depends on {found:?}: {why}");
}

#[test]
fn the_product_depends_on_no_verification_crate() {
    let graph = graph();
    let products = product_packages();
    assert!(
        products.contains(&"colony-core".to_string()),
        "impl/ holds the core: {products:?}"
    );
    for package in &products {
        assert_depends_on_none(
            &graph,
            package,
            &VERIFICATION,
            "the product must carry no verification machinery",
        );
    }
}

#[test]
fn the_core_depends_on_no_other_product_crate_and_no_runtime() {
    let graph = graph();
    let products = product_packages();
    let mut forbidden: Vec<&str> = products
        .iter()
        .map(String::as_str)
        .filter(|name| *name != "colony-core")
        .collect();
    forbidden.extend(RUNTIMES);
    assert_depends_on_none(
        &graph,
        "colony-core",
        &forbidden,
        "the core is the bottom of the product and does no I/O",
    );
}

#[test]
fn the_node_uses_no_async_runtime_and_the_simulator_is_above_it() {
    let graph = graph();
    if !product_packages().contains(&"colony-node".to_string()) {
        return;
    }
    assert_depends_on_none(
        &graph,
        "colony-node",
        &RUNTIMES,
        "the host is sans-IO and the driver is run by the server or the simulator",
    );
    assert_depends_on_none(
        &graph,
        "colony-node",
        &["colony-sim"],
        "the simulator runs the node, not the other way round",
    );
}

#[test]
fn the_verification_crates_do_not_depend_on_the_code_they_judge() {
    let graph = graph();
    let products = product_packages();
    let products: Vec<&str> = products.iter().map(String::as_str).collect();
    for judge in ["colony-model", "colony-testgen"] {
        let closure = closure(&graph.any, judge);
        let found: Vec<&&str> = products.iter().filter(|p| closure.contains(**p)).collect();
        assert!(
            found.is_empty(),
            "{judge} depends on {found:?}: expectations must come from the model, not the code"
        );
    }
    assert!(
        closure(&graph.any, "colony-generated-tests").contains("colony-core"),
        "the generated tests run the core"
    );
}

#[test]
fn a_client_carries_no_node_and_only_the_command_runs_a_server() {
    let graph = graph();
    let products = product_packages();
    if !products.contains(&"colony-client".to_string()) {
        return;
    }
    assert_depends_on_none(
        &graph,
        "colony-client",
        &["colony-node", "colony-server", "redb"],
        "a program that talks to a cluster must not carry a node's storage",
    );
    assert_depends_on_none(
        &graph,
        "colony-net",
        &["colony-node", "colony-server", "colony-client", "redb"],
        "what crosses the network is shared by both ends and belongs to neither",
    );
    for package in &products {
        if package != "colony" && package != "colony-server" {
            assert_depends_on_none(
                &graph,
                package,
                &["colony-server"],
                "the server is a process, run by the colony command alone",
            );
        }
    }
}

#[test]
fn the_simulated_network_stays_out_of_the_product() {
    let graph = graph();
    for package in &product_packages() {
        assert_depends_on_none(
            &graph,
            package,
            &["turmoil"],
            "the product runs on the machine's network; turmoil is the fault tests' (colony-chaos)",
        );
    }
}
