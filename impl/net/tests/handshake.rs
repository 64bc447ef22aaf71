//! Connections between real sockets on loopback: who is let in, and what the others are told.

use colony_core::group::NodeId;
use colony_net::certs::{generate, CertPlan};
use colony_net::{accept, connect, Channel, ConnError, Role, Security, Tls, TlsFiles};
use std::path::Path;
use std::sync::Arc;
use tokio::net::TcpListener;

fn certs(dir: &Path) {
    let plan = CertPlan {
        nodes: vec![NodeId(1), NodeId(2)],
        hosts: vec!["127.0.0.1".into(), "localhost".into()],
        clients: vec!["client".into()],
    };
    generate(dir, &plan).expect("certificates");
}

fn security(dir: &Path, name: &str) -> Security {
    Security::Tls(Arc::new(
        Tls::load(&TlsFiles::in_dir(dir, name)).expect("loads"),
    ))
}

/// Starts node 1 accepting one connection; returns its address and what `accept` gave.
async fn node_one(security: Security) -> (String, tokio::task::JoinHandle<Result<Role, String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let addr = listener.local_addr().expect("address").to_string();
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let (mut conn, role) = accept(tcp, &security, NodeId(1))
            .await
            .map_err(|e| e.to_string())?;
        // Echo one frame, so the connecting side sees the connection work.
        if let Ok(Some(frame)) = conn.recv().await {
            conn.send(frame.to_vec()).await.map_err(|e| e.to_string())?;
        }
        Ok(role)
    });
    (addr, task)
}

#[tokio::test]
async fn a_client_and_a_peer_with_certificates_of_the_cluster_are_let_in() {
    let dir = tempfile::tempdir().expect("dir");
    certs(dir.path());
    for (name, role) in [
        ("client", Role::Client),
        (
            "node-2",
            Role::Peer {
                node: NodeId(2),
                channel: Channel::Bulk,
            },
        ),
    ] {
        let (addr, server) = node_one(security(dir.path(), "node-1")).await;
        let (mut conn, node) = connect(&addr, &security(dir.path(), name), role, Some(NodeId(1)))
            .await
            .expect("connects");
        assert_eq!(node, NodeId(1));
        conn.send(b"hello".to_vec()).await.expect("sends");
        assert_eq!(
            conn.recv().await.expect("reads").as_deref(),
            Some(&b"hello"[..])
        );
        assert_eq!(server.await.expect("joins"), Ok(role));
    }
}

#[tokio::test]
async fn a_client_certificate_cannot_pass_for_a_node() {
    let dir = tempfile::tempdir().expect("dir");
    certs(dir.path());
    let (addr, server) = node_one(security(dir.path(), "node-1")).await;
    let role = Role::Peer {
        node: NodeId(2),
        channel: Channel::Votes,
    };
    let error = connect(&addr, &security(dir.path(), "client"), role, None)
        .await
        .expect_err("refused");
    assert!(
        matches!(&error, ConnError::Refused(reason) if reason.contains("does not name node-2")),
        "{error}"
    );
    let error = server.await.expect("joins").expect_err("refused");
    assert!(error.contains("node-2"), "{error}");
}

#[tokio::test]
async fn a_node_that_is_not_the_one_expected_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    certs(dir.path());
    let (addr, _server) = node_one(security(dir.path(), "node-1")).await;
    let error = connect(
        &addr,
        &security(dir.path(), "client"),
        Role::Client,
        Some(NodeId(2)),
    )
    .await
    .expect_err("refused");
    assert!(error.to_string().contains("not node 2"), "{error}");
}

#[tokio::test]
async fn no_certificate_or_another_cas_is_refused_at_the_tls_handshake() {
    let dir = tempfile::tempdir().expect("dir");
    certs(dir.path());
    let other = tempfile::tempdir().expect("dir");
    certs(other.path());

    let (addr, server) = node_one(security(dir.path(), "node-1")).await;
    let error = connect(&addr, &Security::Insecure, Role::Client, None)
        .await
        .expect_err("refused");
    assert!(!matches!(error, ConnError::Refused(_)), "{error}");
    let error = server.await.expect("joins").expect_err("refused");
    assert!(error.contains("TLS"), "{error}");

    let (addr, server) = node_one(security(dir.path(), "node-1")).await;
    let error = connect(&addr, &security(other.path(), "client"), Role::Client, None)
        .await
        .expect_err("refused");
    assert!(matches!(error, ConnError::Tls(_)), "{error}");
    let error = server.await.expect("joins").expect_err("refused");
    assert!(error.contains("TLS"), "{error}");
}

#[tokio::test]
async fn another_protocol_version_is_told_why() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_util::codec::{Framed, LengthDelimitedCodec};

    let (addr, server) = node_one(Security::Insecure).await;
    let tcp = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connects");
    let mut framed = Framed::new(tcp, LengthDelimitedCodec::new());
    let mut hello = colony_net::hello::encode_hello(Role::Client);
    hello[colony_net::hello::MAGIC.len() + 1] += 1;
    framed.send(bytes::Bytes::from(hello)).await.expect("sends");
    let answer = framed.next().await.expect("an answer").expect("reads");
    // The welcome is in this build's version, so it decodes; its reason names the versions.
    match colony_net::hello::decode_welcome(&answer) {
        Ok(colony_net::hello::Welcome::Refused(reason)) => {
            assert!(reason.contains("protocol version 2"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    let error = server.await.expect("joins").expect_err("refused");
    assert!(error.contains("version"), "{error}");
}

#[test]
fn certificates_are_never_overwritten() {
    let dir = tempfile::tempdir().expect("dir");
    certs(dir.path());
    let plan = CertPlan {
        nodes: vec![NodeId(1)],
        hosts: vec!["127.0.0.1".into()],
        clients: vec![],
    };
    let error = generate(dir.path(), &plan).expect_err("refused");
    assert!(error.to_string().contains("ca.pem exists"), "{error}");
}
