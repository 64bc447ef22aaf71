//! `colony-model explore`: the Stateright Explorer, a web page for walking the state space one
//! action at a time.

use super::{with_model, CliModel, Loaded, ModelArgs};
use clap::Args;
use colony_model::ModelError;
use std::net::{SocketAddr, TcpListener};
use std::process::ExitCode;

/// Flags of `explore`.
#[derive(Args, Debug)]
pub struct ExploreArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Address to serve on; keep it on loopback.
    #[arg(long, default_value = "127.0.0.1:3000")]
    address: SocketAddr,
}

/// Serves the Explorer until interrupted.
pub fn run(args: &ExploreArgs) -> Result<ExitCode, ModelError> {
    let Loaded { name, model, .. } = args.model.load()?;
    // The Explorer panics when it cannot listen; find out first and say why.
    TcpListener::bind(args.address).map_err(|error| ModelError::Listen {
        address: args.address.to_string(),
        reason: error.to_string(),
    })?;
    eprintln!(
        "Stateright Explorer for {name}: http://{}/ (Ctrl-C to stop)",
        args.address
    );
    with_model!(model, model => serve(model, args.address));
    Ok(ExitCode::SUCCESS)
}

/// Serves the Explorer on the model of one spec; returns when the server stops.
fn serve<M: CliModel>(model: M, address: SocketAddr) {
    let _checker = model.checker().serve(address);
}
