//! A development certificate authority: `colony certs` and `colony dev` make one CA and a
//! certificate for each node and for a client, the files [`crate::TlsFiles::in_dir`] names.
//!
//! A node's certificate is valid for `node-N` and for the hosts it serves on, for both server
//! and client authentication (it accepts connections and opens them); a client's is valid for
//! client authentication only. They are for development and tests: a production cluster's
//! certificates come from the operator's own CA, in the same files.

use crate::tls::node_name;
use colony_core::group::NodeId;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Why certificates could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// A file would be overwritten.
    #[error(
        "{0} exists: certificates are never overwritten; remove it or choose another directory"
    )]
    Exists(PathBuf),
    /// A file could not be written.
    #[error("{path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A client's name is one the nodes or the CA use.
    #[error("{0}")]
    Name(String),
    /// A host name is not valid in a certificate, or generation failed.
    #[error("certificate generation: {0}")]
    Generate(#[from] rcgen::Error),
}

/// What to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertPlan {
    /// The nodes to make certificates for.
    pub nodes: Vec<NodeId>,
    /// The host names and IP addresses every node's certificate is valid for.
    pub hosts: Vec<String>,
    /// The clients to make certificates for, by name (`client`).
    pub clients: Vec<String>,
}

/// Makes a CA and every certificate of `plan` in `dir` (created if missing), refusing to
/// overwrite any file. Returns the files written, in order.
pub fn generate(dir: &Path, plan: &CertPlan) -> Result<Vec<PathBuf>, CertError> {
    std::fs::create_dir_all(dir).map_err(|source| CertError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    if let Some(client) = plan
        .clients
        .iter()
        .find(|c| c.starts_with("node-") || *c == "ca")
    {
        return Err(CertError::Name(format!(
            "a client may not be called {client:?}: names node-N and ca are the nodes' and the CA's"
        )));
    }
    let mut names = vec!["ca".to_string()];
    names.extend(plan.nodes.iter().map(|n| node_name(*n)));
    names.extend(plan.clients.iter().cloned());
    for name in &names {
        for path in [
            dir.join(format!("{name}.pem")),
            dir.join(format!("{name}-key.pem")),
        ] {
            if path.exists() {
                return Err(CertError::Exists(path));
            }
        }
    }

    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Colony development CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, &ca_key);

    let mut written = Vec::new();
    write(
        dir,
        "ca",
        &ca_cert.pem(),
        &ca_key.serialize_pem(),
        &mut written,
    )?;
    for node in &plan.nodes {
        let name = node_name(*node);
        let mut sans = vec![name.clone()];
        sans.extend(plan.hosts.iter().cloned());
        let mut params = CertificateParams::new(sans)?;
        params.distinguished_name.push(DnType::CommonName, &name);
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &issuer)?;
        write(dir, &name, &cert.pem(), &key.serialize_pem(), &mut written)?;
    }
    for client in &plan.clients {
        let mut params = CertificateParams::new(vec![client.clone()])?;
        params.distinguished_name.push(DnType::CommonName, client);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &issuer)?;
        write(dir, client, &cert.pem(), &key.serialize_pem(), &mut written)?;
    }
    Ok(written)
}

fn write(
    dir: &Path,
    name: &str,
    cert: &str,
    key: &str,
    written: &mut Vec<PathBuf>,
) -> Result<(), CertError> {
    let cert_path = dir.join(format!("{name}.pem"));
    let key_path = dir.join(format!("{name}-key.pem"));
    write_file(&cert_path, cert, false)?;
    write_file(&key_path, key, true)?;
    written.push(cert_path);
    written.push(key_path);
    Ok(())
}

fn write_file(path: &Path, contents: &str, secret: bool) -> Result<(), CertError> {
    let failed = |source| CertError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // A private key is readable by its owner only.
        options.mode(if secret { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options.open(path).map_err(failed)?;
    file.write_all(contents.as_bytes()).map_err(failed)?;
    file.sync_all().map_err(failed)
}
