//! Mutual TLS: every node and every client holds a certificate signed by the cluster's CA, and
//! every connection checks both sides' certificates against it.
//!
//! A node's certificate names the node (`node-N`) besides the addresses it serves on; a peer
//! that says it is node N must present a certificate valid for `node-N`, so that a client's
//! certificate cannot pass for a node and send votes. Plaintext ([`Security::Insecure`]) exists
//! only for a user who asks for it by name.

use colony_core::group::NodeId;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// Where a node's or a client's certificate, key and CA are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// The CA certificate (PEM) that signed every certificate of the cluster.
    pub ca: PathBuf,
    /// This side's certificate (PEM).
    pub cert: PathBuf,
    /// This side's private key (PEM).
    pub key: PathBuf,
}

impl TlsFiles {
    /// The files `colony certs` writes in `dir` for `name` (`node-1`, `client`, ...).
    pub fn in_dir(dir: &Path, name: &str) -> TlsFiles {
        TlsFiles {
            ca: dir.join("ca.pem"),
            cert: dir.join(format!("{name}.pem")),
            key: dir.join(format!("{name}-key.pem")),
        }
    }
}

/// Why the TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read or holds no PEM item of the kind needed.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// rustls refused the certificates or the key.
    #[error("TLS configuration: {0}")]
    Config(String),
}

/// How connections are secured.
#[derive(Clone)]
pub enum Security {
    /// Plaintext, only when asked for by name (`--insecure`).
    Insecure,
    /// Mutual TLS.
    Tls(Arc<Tls>),
}

impl std::fmt::Debug for Security {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Security::Insecure => "Insecure",
            Security::Tls(_) => "Tls",
        })
    }
}

/// The two halves of mutual TLS, built from one certificate.
pub struct Tls {
    pub(crate) acceptor: TlsAcceptor,
    pub(crate) connector: TlsConnector,
}

/// The name a node's certificate carries besides its addresses.
pub fn node_name(node: NodeId) -> String {
    format!("node-{}", node.0)
}

impl Tls {
    /// Reads the files and builds both halves: a server that requires a client certificate
    /// signed by the CA, and a client that presents this certificate and checks the server's.
    pub fn load(files: &TlsFiles) -> Result<Tls, TlsError> {
        let ca = read_certs(&files.ca)?;
        let certs = read_certs(&files.cert)?;
        let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| TlsError::File {
            path: files.key.clone(),
            reason: format!("no private key: {e}"),
        })?;
        let mut roots = RootCertStore::empty();
        for cert in ca {
            roots
                .add(cert)
                .map_err(|e| TlsError::Config(format!("{}: {e}", files.ca.display())))?;
        }
        let roots = Arc::new(roots);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = |e: rustls::Error| TlsError::Config(e.to_string());
        let verifier = WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone())
            .build()
            .map_err(|e| TlsError::Config(e.to_string()))?;
        let server = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(config)?
            .with_client_cert_verifier(verifier)
            .with_single_cert(certs.clone(), key.clone_key())
            .map_err(config)?;
        let client = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(config)?
            .with_root_certificates(roots)
            .with_client_auth_cert(certs, key)
            .map_err(config)?;
        Ok(Tls {
            acceptor: TlsAcceptor::from(Arc::new(server)),
            connector: TlsConnector::from(Arc::new(client)),
        })
    }
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let file = |reason: String| TlsError::File {
        path: path.to_path_buf(),
        reason,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| file(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file(e.to_string()))?;
    if certs.is_empty() {
        return Err(file("no certificate in the file".into()));
    }
    Ok(certs)
}

/// Whether `cert` (DER) is valid for `name`, a DNS name such as `node-2`.
pub(crate) fn cert_names(cert: &CertificateDer<'_>, name: &str) -> bool {
    let Ok(server_name) = ServerName::try_from(name.to_string()) else {
        return false;
    };
    let Ok(end_entity) = webpki::EndEntityCert::try_from(cert) else {
        return false;
    };
    end_entity
        .verify_is_valid_for_subject_name(&server_name)
        .is_ok()
}
