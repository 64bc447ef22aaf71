//! What crosses Colony's network, shared by the server and the client.
//!
//! - [`hello`]: the first frame each way on every connection, with the protocol version, so
//!   that two versions of Colony refuse each other by name instead of misreading each other.
//! - [`conn`]: a connection: TCP, mutual TLS, length-delimited frames with a bound per role.
//! - [`network`]: where streams come from: the machine's TCP, or a simulated network.
//! - [`tls`]: the certificates, and the check that a peer's certificate names the node it says
//!   it is.
//! - [`api`]: the client protocol, one request and one response at a time.
//! - [`directory`]: the directory cell's keys and records: which cells exist and where.
//! - [`certs`]: a development CA and its certificates, for `colony certs` and `colony dev`.
//!
//! The frames nodes send each other are encoded by `colony-node` (`wire.rs`), beside the host
//! that makes them; this crate only carries them.

#![deny(missing_docs)]

pub mod api;
pub mod certs;
pub mod conn;
pub mod directory;
pub mod hello;
pub mod network;
pub mod tls;

pub use conn::{accept, connect, connect_from, connect_over, Conn, ConnError};
pub use hello::{Channel, Role};
pub use network::{Listener, Net, Network};
pub use tls::{Security, Tls, TlsFiles};
