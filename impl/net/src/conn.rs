//! A connection: TCP, then TLS unless [`Security::Insecure`], then length-delimited frames
//! (a four-byte big-endian length, then that many bytes), opened by the handshake of
//! [`crate::hello`].

use crate::hello::{self, Role, Welcome};
use crate::network::Net;
use crate::tls::{self, Security};
use bytes::Bytes;
use colony_core::group::NodeId;
use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::ServerName;
use std::io;
use std::net::IpAddr;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::codec::{Framed, LengthDelimitedCodec};

/// The longest handshake frame: a hello or a welcome, with a reason.
const HELLO_BYTES_MAX: usize = 4096;

/// The longest frame of the votes channel and of the client protocol: the largest protocol
/// message, request or reply, with room for its envelope.
pub const MESSAGE_FRAME_BYTES_MAX: usize = colony_core::multipaxos::MESSAGE_BYTES_MAX + 64 * 1024;

/// The longest frame of the bulk channel: the largest snapshot, with room for its header.
pub const BULK_FRAME_BYTES_MAX: usize =
    colony_core::multipaxos::SNAPSHOT_BYTES_MAX as usize + 64 * 1024;

/// How long a handshake may take, TLS included, before the connection is dropped: a peer that
/// connects and says nothing must not hold a task forever.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Anything a connection can run over: TCP, TLS over TCP, or a simulated stream.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

/// Why a connection could not be opened or accepted.
#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    /// The socket failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// TLS failed: a certificate not signed by the cluster's CA, or none.
    #[error("TLS: {0}")]
    Tls(io::Error),
    /// The handshake frame was refused.
    #[error("{0}")]
    Hello(#[from] hello::HelloError),
    /// The other side refused the connection.
    #[error("refused by the other side: {0}")]
    Refused(String),
    /// The other side is not who it was expected to be, or its certificate does not say so.
    #[error("{0}")]
    Identity(String),
    /// The handshake took longer than [`HANDSHAKE_TIMEOUT`] or the connection closed during it.
    #[error("the handshake did not complete: {0}")]
    Handshake(String),
}

/// One open connection, after the handshake.
pub struct Conn {
    framed: Framed<Box<dyn Io>, LengthDelimitedCodec>,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Conn")
    }
}

impl Conn {
    fn new(io: Box<dyn Io>) -> Conn {
        let codec = LengthDelimitedCodec::builder()
            .max_frame_length(HELLO_BYTES_MAX)
            .new_codec();
        Conn {
            framed: Framed::new(io, codec),
        }
    }

    fn set_frame_bytes_max(&mut self, max: usize) {
        self.framed.codec_mut().set_max_frame_length(max);
    }

    /// Sends one frame.
    pub async fn send(&mut self, frame: Vec<u8>) -> io::Result<()> {
        self.framed.send(Bytes::from(frame)).await
    }

    /// Receives one frame; `None` when the other side closed the connection. A frame longer
    /// than the connection's bound is an error, and nothing of it is buffered.
    pub async fn recv(&mut self) -> io::Result<Option<Bytes>> {
        match self.framed.next().await {
            None => Ok(None),
            Some(frame) => Ok(Some(frame?.freeze())),
        }
    }

    async fn recv_handshake(&mut self) -> Result<Bytes, ConnError> {
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, self.recv()).await {
            Err(_) => Err(ConnError::Handshake(format!(
                "nothing within {HANDSHAKE_TIMEOUT:?}"
            ))),
            Ok(Ok(None)) => Err(ConnError::Handshake("the connection closed".into())),
            Ok(Ok(Some(bytes))) => Ok(bytes),
            Ok(Err(e)) => Err(ConnError::Handshake(e.to_string())),
        }
    }
}

/// The bound on a connection's frames once the handshake named its role.
fn frame_bytes_max(role: Role) -> usize {
    match role {
        Role::Peer {
            channel: hello::Channel::Bulk,
            ..
        } => BULK_FRAME_BYTES_MAX,
        _ => MESSAGE_FRAME_BYTES_MAX,
    }
}

/// Opens a TCP connection to `addr` (`host:port`) as `role`. When `expect` names a node, the
/// other side must be that node and, under TLS, its certificate must name it.
pub async fn connect(
    addr: &str,
    security: &Security,
    role: Role,
    expect: Option<NodeId>,
) -> Result<(Conn, NodeId), ConnError> {
    connect_from(&Net::tcp(), None, addr, security, role, expect).await
}

/// As [`connect`], over `net`, from the local address `source` when one is given: a node
/// connects to its peers from the address it serves on, so that each node is one address to
/// the others (and to a firewall that partitions them).
pub async fn connect_from(
    net: &Net,
    source: Option<IpAddr>,
    addr: &str,
    security: &Security,
    role: Role,
    expect: Option<NodeId>,
) -> Result<(Conn, NodeId), ConnError> {
    let stream = net.connect(addr, source).await?;
    connect_over(stream, addr, security, role, expect).await
}

/// As [`connect`], over a stream already open to `addr` (a simulated one, in the simulator).
pub async fn connect_over(
    stream: impl Io,
    addr: &str,
    security: &Security,
    role: Role,
    expect: Option<NodeId>,
) -> Result<(Conn, NodeId), ConnError> {
    let (io, peer_cert): (Box<dyn Io>, _) = match security {
        Security::Insecure => (Box::new(stream), None),
        Security::Tls(tls) => {
            let host = host_of(addr);
            let name = ServerName::try_from(host.to_string())
                .map_err(|e| ConnError::Identity(format!("{host:?} is not a host name: {e}")))?;
            let stream = tls_handshake(tls.connector.connect(name, stream)).await?;
            let cert = first_cert(stream.get_ref().1);
            (Box::new(stream), cert)
        }
    };
    let mut conn = Conn::new(io);
    conn.send(hello::encode_hello(role)).await?;
    let welcome = hello::decode_welcome(&conn.recv_handshake().await?)?;
    let node = match welcome {
        Welcome::Refused(reason) => return Err(ConnError::Refused(reason)),
        Welcome::Accepted { node } => node,
    };
    if let Some(expected) = expect {
        if node != expected {
            return Err(ConnError::Identity(format!(
                "{addr} is node {}, not node {}",
                node.0, expected.0
            )));
        }
        if let Some(cert) = &peer_cert {
            if !tls::cert_names(cert, &tls::node_name(expected)) {
                return Err(ConnError::Identity(format!(
                    "the certificate of {addr} does not name {}",
                    tls::node_name(expected)
                )));
            }
        }
    }
    conn.set_frame_bytes_max(frame_bytes_max(role));
    Ok((conn, node))
}

/// Accepts a connection as node `this`: TLS, then the hello. A hello of another version, or a
/// peer whose certificate does not name the node it says it is, is answered with the reason
/// and refused.
pub async fn accept(
    stream: impl Io,
    security: &Security,
    this: NodeId,
) -> Result<(Conn, Role), ConnError> {
    let (io, peer_cert): (Box<dyn Io>, _) = match security {
        Security::Insecure => (Box::new(stream), None),
        Security::Tls(tls) => {
            let stream = tls_handshake(tls.acceptor.accept(stream)).await?;
            let cert = first_cert(stream.get_ref().1);
            (Box::new(stream), cert)
        }
    };
    let mut conn = Conn::new(io);
    let refuse = |reason: String| Welcome::Refused(reason);
    let role = match hello::decode_hello(&conn.recv_handshake().await?) {
        Ok(role) => role,
        Err(e) => {
            // Best effort: a stranger may not read it, another version will.
            let _ = conn
                .send(hello::encode_welcome(&refuse(e.to_string())))
                .await;
            return Err(e.into());
        }
    };
    if let (Role::Peer { node, .. }, Some(cert)) = (role, &peer_cert) {
        if !tls::cert_names(cert, &tls::node_name(node)) {
            let reason = format!(
                "a peer said it is node {} but its certificate does not name {}",
                node.0,
                tls::node_name(node)
            );
            let _ = conn
                .send(hello::encode_welcome(&refuse(reason.clone())))
                .await;
            return Err(ConnError::Identity(reason));
        }
    }
    conn.send(hello::encode_welcome(&Welcome::Accepted { node: this }))
        .await?;
    conn.set_frame_bytes_max(frame_bytes_max(role));
    Ok((conn, role))
}

/// A TLS handshake, either side's, within [`HANDSHAKE_TIMEOUT`].
async fn tls_handshake<S>(
    handshake: impl std::future::Future<Output = io::Result<S>>,
) -> Result<S, ConnError> {
    tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake)
        .await
        .map_err(|_| ConnError::Handshake("TLS took too long".into()))?
        .map_err(ConnError::Tls)
}

/// The other side's own certificate, the first of the chain it presented.
fn first_cert(state: &rustls::CommonState) -> Option<rustls::pki_types::CertificateDer<'static>> {
    state
        .peer_certificates()
        .and_then(|chain| chain.first())
        .map(|cert| cert.clone().into_owned())
}

/// The host part of `host:port` (or `[v6]:port`).
fn host_of(addr: &str) -> &str {
    let host = addr.rsplit_once(':').map_or(addr, |(host, _)| host);
    host.trim_start_matches('[').trim_end_matches(']')
}

#[cfg(test)]
mod tests {
    use super::host_of;

    #[test]
    fn the_host_of_an_address() {
        assert_eq!(host_of("127.0.0.1:7001"), "127.0.0.1");
        assert_eq!(host_of("[::1]:7001"), "::1");
        assert_eq!(host_of("localhost:1"), "localhost");
    }
}
