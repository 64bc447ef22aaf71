//! Where streams come from: TCP on a machine, or a simulated network in a test.
//!
//! The server and the client open and accept every stream through a [`Net`], so that the same
//! code runs over the machine's TCP and over a deterministic simulation of it (the fault tests
//! run the server under turmoil). A `Net` only makes byte streams; TLS, the handshake and the
//! framing ([`crate::conn`]) are the same whichever network carries them.

use crate::conn::Io;
use futures_util::future::BoxFuture;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// A network: it opens streams to addresses and listens on them.
pub trait Network: Send + Sync + 'static {
    /// What this network is, for logs and `Debug`.
    fn name(&self) -> &'static str;

    /// Opens a stream to `addr` (`host:port`), from the local address `source` when given.
    fn connect(
        &self,
        addr: String,
        source: Option<IpAddr>,
    ) -> BoxFuture<'static, io::Result<Box<dyn Io>>>;

    /// Listens on `addr` (`host:port`).
    fn listen(&self, addr: String) -> BoxFuture<'static, io::Result<Box<dyn Listener>>>;
}

/// A listening socket.
pub trait Listener: Send {
    /// The next stream opened to this listener, and where it came from.
    fn accept(&mut self) -> BoxFuture<'_, io::Result<(Box<dyn Io>, SocketAddr)>>;
}

/// A handle on a network, cheap to clone: the machine's TCP unless a test says otherwise.
#[derive(Clone)]
pub struct Net(Arc<dyn Network>);

impl Net {
    /// The machine's TCP.
    pub fn tcp() -> Net {
        Net(Arc::new(Tcp))
    }

    /// Any other network (a simulated one).
    pub fn new(network: impl Network) -> Net {
        Net(Arc::new(network))
    }

    /// Opens a stream to `addr`, from `source` when given.
    pub async fn connect(&self, addr: &str, source: Option<IpAddr>) -> io::Result<Box<dyn Io>> {
        self.0.connect(addr.to_string(), source).await
    }

    /// Listens on `addr`.
    pub async fn listen(&self, addr: &str) -> io::Result<Box<dyn Listener>> {
        self.0.listen(addr.to_string()).await
    }
}

impl Default for Net {
    fn default() -> Net {
        Net::tcp()
    }
}

impl fmt::Debug for Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Net({})", self.0.name())
    }
}

/// The machine's TCP, with Nagle's algorithm off: every frame is a request or a vote that
/// someone waits for.
struct Tcp;

impl Network for Tcp {
    fn name(&self) -> &'static str {
        "tcp"
    }

    fn connect(
        &self,
        addr: String,
        source: Option<IpAddr>,
    ) -> BoxFuture<'static, io::Result<Box<dyn Io>>> {
        Box::pin(async move {
            let tcp = match source {
                None => tokio::net::TcpStream::connect(&addr).await?,
                Some(source) => {
                    let target = tokio::net::lookup_host(&addr)
                        .await?
                        .find(|target| target.is_ipv4() == source.is_ipv4())
                        .ok_or_else(|| {
                            io::Error::new(
                                io::ErrorKind::NotFound,
                                format!("{addr} has no address of the family of {source}"),
                            )
                        })?;
                    let socket = if source.is_ipv4() {
                        tokio::net::TcpSocket::new_v4()?
                    } else {
                        tokio::net::TcpSocket::new_v6()?
                    };
                    socket.bind(SocketAddr::new(source, 0))?;
                    socket.connect(target).await?
                }
            };
            tcp.set_nodelay(true)?;
            Ok(Box::new(tcp) as Box<dyn Io>)
        })
    }

    fn listen(&self, addr: String) -> BoxFuture<'static, io::Result<Box<dyn Listener>>> {
        Box::pin(async move {
            let listener = tokio::net::TcpListener::bind(&addr).await?;
            Ok(Box::new(TcpListener(listener)) as Box<dyn Listener>)
        })
    }
}

struct TcpListener(tokio::net::TcpListener);

impl Listener for TcpListener {
    fn accept(&mut self) -> BoxFuture<'_, io::Result<(Box<dyn Io>, SocketAddr)>> {
        Box::pin(async move {
            let (tcp, from) = self.0.accept().await?;
            // Best effort: a stream that cannot turn Nagle off still works, only slower.
            let _ = tcp.set_nodelay(true);
            Ok((Box::new(tcp) as Box<dyn Io>, from))
        })
    }
}
