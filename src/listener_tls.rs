//! TLS on the proxy listener, for deployments with no ingress in front (a VM, systemd). The
//! certificate and key are read when the config is validated — so `switchyard check` refuses a
//! path that does not hold them, naming the field — and served through a certificate resolver that
//! a SIGHUP reload swaps: new connections get the new certificate, open ones keep theirs. Pingora's
//! rustls listener takes such a resolver (`TlsSettings::set_cert_resolver`); nothing restarts.

use std::sync::Arc;

use arc_swap::ArcSwap;
use pingora_core::tls::sign::CertifiedKey;
use pingora_core::tls::{ClientHello, CryptoProvider, ResolvesServerCert};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Which file a loading failure is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Cert,
    Key,
}

/// A certificate or key that cannot be served, and why.
#[derive(Debug)]
pub struct LoadError {
    pub part: Part,
    pub message: String,
}

fn fail<T>(part: Part, message: String) -> Result<T, LoadError> {
    Err(LoadError { part, message })
}

/// Reads a PEM certificate chain (leaf first) and its private key, and checks that they belong together.
pub fn load(cert_path: &str, key_path: &str) -> Result<Arc<CertifiedKey>, LoadError> {
    let read = |part: Part, path: &str, what: &str| match std::fs::read(path) {
        Ok(bytes) => Ok(bytes),
        Err(e) => fail(
            part,
            format!("cannot read `{path}` ({e}): expected a PEM file with {what}"),
        ),
    };
    let cert_pem = read(Part::Cert, cert_path, "the certificate chain, leaf first")?;
    let chain: Vec<CertificateDer<'static>> = match CertificateDer::pem_slice_iter(&cert_pem).collect::<Result<_, _>>() {
        Ok(chain) => chain,
        Err(e) => return fail(Part::Cert, format!("`{cert_path}` is not valid PEM ({e}): expected -----BEGIN CERTIFICATE----- blocks, leaf first")),
    };
    if chain.is_empty() {
        return fail(Part::Cert, format!("`{cert_path}` holds no certificate: expected -----BEGIN CERTIFICATE----- blocks, leaf first"));
    }
    let key_pem = read(Part::Key, key_path, "the certificate's private key")?;
    let key = match PrivateKeyDer::from_pem_slice(&key_pem) {
        Ok(key) => key,
        Err(e) => return fail(Part::Key, format!("`{key_path}` holds no usable private key ({e}): expected a PEM PKCS#8, PKCS#1 (RSA) or SEC1 (EC) key")),
    };
    pingora_core::tls::install_default_crypto_provider();
    let Some(provider) = CryptoProvider::get_default() else {
        return fail(Part::Key, "no TLS crypto provider is installed".into());
    };
    match CertifiedKey::from_der(chain, key, provider) {
        Ok(certified) => Ok(Arc::new(certified)),
        Err(e) => fail(Part::Key, format!("`{key_path}` cannot sign for the certificate in `{cert_path}` ({e}): give the key the certificate was issued for")),
    }
}

/// The proxy listener's certificate, swapped on reload.
#[derive(Debug)]
pub struct ReloadableCert(ArcSwap<CertifiedKey>);

impl ReloadableCert {
    pub fn new(certified: Arc<CertifiedKey>) -> Self {
        ReloadableCert(ArcSwap::new(certified))
    }

    /// Serves `certified` to every connection from now on.
    pub fn replace(&self, certified: Arc<CertifiedKey>) {
        self.0.store(certified);
    }
}

impl ResolvesServerCert for ReloadableCert {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.load_full())
    }
}
