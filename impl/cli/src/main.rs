//! `colony`: run a node, run a local cluster, make certificates, read and write cells, and
//! measure a cluster under a write load (`colony bench`).
//!
//! The client commands follow etcdctl's conventions: endpoints from `--endpoints` or
//! `COLONY_ENDPOINTS`, certificates from `--cacert/--cert/--key` or `COLONY_CACERT`,
//! `COLONY_CERT`, `COLONY_KEY`, and output as a table or JSON (`-w table|json`).
//!
//! Exit status: 0 on success; 1 when the request failed or was refused and nothing was applied
//! (a failed condition among them); 2 for a usage error; 3 when the outcome is unknown (the
//! request may or may not have been applied).

mod bench;
mod data;
mod dev;
mod node;
mod output;

use clap::{Args, Parser, Subcommand, ValueEnum};
use colony_client::{Client, ClientConfig, ClientError};
use colony_core::group::NodeId;
use colony_net::{Security, Tls, TlsFiles};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "colony",
    version,
    about = "Colony: millions of tiny databases on Paxos."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Set a key: `colony put alice 100 --cell accounts`.
    Put {
        /// The key.
        key: String,
        /// The value: an integer, true or false, 0x and hex digits, a "quoted string", or a
        /// word (its bytes).
        value: String,
        #[command(flatten)]
        cell: CellArg,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Read a key.
    Get {
        /// The key.
        key: String,
        #[command(flatten)]
        cell: CellArg,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Remove a key (removing an absent key succeeds).
    Del {
        /// The key.
        key: String,
        #[command(flatten)]
        cell: CellArg,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Add to an integer key (an absent key counts as 0); prints the new value.
    Incr {
        /// The key.
        key: String,
        /// The amount, which may be negative.
        #[arg(default_value = "1", allow_hyphen_values = true)]
        amount: String,
        #[command(flatten)]
        cell: CellArg,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Run a transaction from FILE, or from standard input when FILE is - or absent.
    ///
    /// One clause a line: `if KEY exists`, `if KEY absent`, `if KEY = VALUE`, then `put KEY
    /// VALUE`, `get KEY`, `del KEY`, `incr KEY [AMOUNT]`; or the same as JSON. All of it applies
    /// or none of it does.
    Txn {
        /// The file holding the transaction.
        file: Option<PathBuf>,
        #[command(flatten)]
        cell: CellArg,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Create, list and inspect cells.
    Cell {
        #[command(subcommand)]
        command: CellCommand,
    },
    /// The cluster as a whole.
    Cluster {
        #[command(subcommand)]
        command: ClusterCommand,
    },
    /// Make a development CA and certificates for nodes and a client.
    Certs {
        /// The directory to write them in (created if missing; nothing in it is overwritten).
        #[arg(long)]
        dir: PathBuf,
        /// How many nodes (numbered from 1).
        #[arg(long, default_value_t = 3)]
        nodes: u8,
        /// Host names and IP addresses the nodes serve on.
        #[arg(long = "host", default_values_t = ["127.0.0.1".to_string(), "localhost".to_string()])]
        hosts: Vec<String>,
        /// Client certificates to make, by name.
        #[arg(long = "client", default_values_t = ["client".to_string()])]
        clients: Vec<String>,
    },
    /// Run one node of a cluster.
    Node(node::NodeArgs),
    /// Start a local cluster on loopback, each node its own process, until Ctrl-C.
    Dev(dev::DevArgs),
    /// Write to cells from concurrent clients for a while, and report throughput and latency.
    ///
    /// Each write is one `put` through the client library (exactly-once, with retries), done
    /// once the cell's majority has synced it. `--cells N` spreads the writes over N cells,
    /// created first when missing.
    Bench(bench::BenchArgs),
}

#[derive(Subcommand, Debug)]
enum CellCommand {
    /// Create a cell on distinct nodes and record it in the directory.
    Create {
        /// Its name: letters, digits, '-', '_', '.'.
        name: String,
        /// How many nodes hold it.
        #[arg(long, default_value_t = 3)]
        replicas: usize,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Every cell in the directory.
    List {
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// How each member of a cell sees it.
    Status {
        /// The cell's name.
        name: String,
        #[command(flatten)]
        conn: ConnArgs,
    },
}

#[derive(Subcommand, Debug)]
enum ClusterCommand {
    /// Every node's status.
    Status {
        #[command(flatten)]
        conn: ConnArgs,
    },
}

/// The cell a data command works on.
#[derive(Args, Debug)]
struct CellArg {
    /// The cell's name.
    #[arg(long, env = "COLONY_CELL")]
    cell: String,
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// A table for people.
    Table,
    /// JSON for programs.
    Json,
}

/// How a client command reaches the cluster.
#[derive(Args, Debug)]
struct ConnArgs {
    /// Node addresses, comma-separated.
    #[arg(
        long,
        env = "COLONY_ENDPOINTS",
        value_delimiter = ',',
        default_value = "127.0.0.1:7001"
    )]
    endpoints: Vec<String>,
    /// The cluster's CA certificate.
    #[arg(long, env = "COLONY_CACERT")]
    cacert: Option<PathBuf>,
    /// This client's certificate.
    #[arg(long, env = "COLONY_CERT")]
    cert: Option<PathBuf>,
    /// This client's private key.
    #[arg(long = "key", env = "COLONY_KEY")]
    key_file: Option<PathBuf>,
    /// Plaintext, without TLS (only against nodes started with --insecure).
    #[arg(long, env = "COLONY_INSECURE")]
    insecure: bool,
    /// How long a command may take, retries included, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
    /// Output format.
    #[arg(short = 'w', long = "write-out", value_enum, default_value_t = Format::Table)]
    write_out: Format,
}

impl ConnArgs {
    fn security(&self) -> Result<Security, String> {
        if self.insecure {
            return Ok(Security::Insecure);
        }
        match (&self.cacert, &self.cert, &self.key_file) {
            (Some(ca), Some(cert), Some(key)) => {
                let files = TlsFiles {
                    ca: ca.clone(),
                    cert: cert.clone(),
                    key: key.clone(),
                };
                Ok(Security::Tls(Arc::new(
                    Tls::load(&files).map_err(|e| e.to_string())?,
                )))
            }
            _ => Err(
                "no certificates: give --cacert, --cert and --key (or COLONY_CACERT, \
                 COLONY_CERT and COLONY_KEY, which `colony dev` prints), or --insecure"
                    .to_string(),
            ),
        }
    }

    async fn client(&self) -> Result<Client, Failure> {
        let security = self.security().map_err(Failure::Usage)?;
        let mut config = ClientConfig::new(self.endpoints.clone(), security);
        config.timeout = Duration::from_millis(self.timeout_ms);
        Client::connect(config).await.map_err(Failure::from)
    }
}

/// Why a command failed, and the exit status that says so.
#[derive(Debug)]
enum Failure {
    /// Bad arguments or input: nothing was sent.
    Usage(String),
    /// The request failed or was refused; nothing was applied.
    Failed(String),
    /// The outcome is unknown.
    Unknown(String),
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Failure {
        match e {
            ClientError::Invalid(_) => Failure::Usage(e.to_string()),
            // A reply this client cannot read may follow a request that was applied.
            ClientError::Indeterminate(_) | ClientError::Protocol(_) => {
                Failure::Unknown(e.to_string())
            }
            _ => Failure::Failed(e.to_string()),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("Error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(e)) => {
            eprintln!("Error: {e}");
            ExitCode::from(2)
        }
        Err(Failure::Failed(e)) => {
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
        Err(Failure::Unknown(e)) => {
            eprintln!("Error: {e}");
            ExitCode::from(3)
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Put {
            key,
            value,
            cell,
            conn,
        } => data::put(&conn, &cell.cell, &key, &value).await,
        Command::Get { key, cell, conn } => data::get(&conn, &cell.cell, &key).await,
        Command::Del { key, cell, conn } => data::del(&conn, &cell.cell, &key).await,
        Command::Incr {
            key,
            amount,
            cell,
            conn,
        } => data::incr(&conn, &cell.cell, &key, &amount).await,
        Command::Txn { file, cell, conn } => data::txn(&conn, &cell.cell, file.as_deref()).await,
        Command::Cell { command } => match command {
            CellCommand::Create {
                name,
                replicas,
                conn,
            } => data::cell_create(&conn, &name, replicas).await,
            CellCommand::List { conn } => data::cell_list(&conn).await,
            CellCommand::Status { name, conn } => data::cell_status(&conn, &name).await,
        },
        Command::Cluster {
            command: ClusterCommand::Status { conn },
        } => data::cluster_status(&conn).await,
        Command::Certs {
            dir,
            nodes,
            hosts,
            clients,
        } => {
            let plan = colony_net::certs::CertPlan {
                nodes: (1..=nodes).map(NodeId).collect(),
                hosts,
                clients,
            };
            let written = colony_net::certs::generate(&dir, &plan)
                .map_err(|e| Failure::Failed(e.to_string()))?;
            for path in written {
                println!("{}", path.display());
            }
            Ok(())
        }
        Command::Node(args) => node::run(args).await,
        Command::Dev(args) => dev::run(args).await,
        Command::Bench(args) => bench::run(args).await,
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
