//! HTTPS for the emulator: a generated CA and a server certificate signed
//! by it, one self-signed certificate that is also a CA (what the `wf` CLI
//! pins for a local server), or a certificate and key given as PEM. Clients
//! trust what [`TlsSetup::trust_pem`] holds.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// How the emulator gets its certificate.
#[derive(Clone, Debug)]
pub enum TlsMode {
    /// A fresh CA and a server certificate for `localhost`, `127.0.0.1` and `::1` signed by it.
    Generated,
    /// One self-signed certificate for those names that is also a CA (`CA:TRUE`).
    SelfSignedCa,
    /// A certificate chain and its private key, as PEM.
    Pem {
        /// The server's certificate, then any intermediates.
        chain: String,
        /// Its private key.
        key: String,
    },
}

/// A ready TLS acceptor and the PEM a client should trust.
pub(crate) struct TlsSetup {
    pub acceptor: TlsAcceptor,
    pub trust_pem: Option<String>,
}

/// The names the generated certificates are valid for.
const NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

fn io_error(what: &str, e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{what}: {e}"))
}

impl TlsSetup {
    pub(crate) fn new(mode: &TlsMode) -> std::io::Result<TlsSetup> {
        let (chain, key, trust_pem) = match mode {
            TlsMode::Generated => generated()?,
            TlsMode::SelfSignedCa => self_signed_ca()?,
            TlsMode::Pem { chain, key } => {
                let certs = CertificateDer::pem_slice_iter(chain.as_bytes())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| io_error("the TLS certificate is not PEM", e))?;
                let key = PrivateKeyDer::from_pem_slice(key.as_bytes())
                    .map_err(|e| io_error("the TLS key is not a PEM private key", e))?;
                (certs, key, None)
            }
        };
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| io_error("TLS versions", e))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| io_error("the TLS certificate and key do not go together", e))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(TlsSetup {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            trust_pem,
        })
    }
}

type Material = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>, Option<String>);

fn leaf_params() -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(NAMES.map(str::to_owned).to_vec())?;
    params.distinguished_name.push(DnType::CommonName, "wayfinder-emulator");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    Ok(params)
}

fn generated() -> std::io::Result<Material> {
    let build = || -> Result<Material, rcgen::Error> {
        let ca_key = KeyPair::generate()?;
        let mut ca = CertificateParams::new(Vec::new())?;
        ca.distinguished_name.push(DnType::CommonName, "wayfinder-emulator CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca, ca_key);
        let key = KeyPair::generate()?;
        let leaf = leaf_params()?.signed_by(&key, &issuer)?;
        let chain = vec![leaf.der().clone(), ca_cert.der().clone()];
        let private = PrivateKeyDer::try_from(key.serialize_der()).map_err(|_| rcgen::Error::CouldNotParseKeyPair)?;
        Ok((chain, private, Some(ca_cert.pem())))
    };
    build().map_err(|e| io_error("cannot generate the TLS certificates", e))
}

fn self_signed_ca() -> std::io::Result<Material> {
    let build = || -> Result<Material, rcgen::Error> {
        let key = KeyPair::generate()?;
        let mut params = leaf_params()?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key)?;
        let private = PrivateKeyDer::try_from(key.serialize_der()).map_err(|_| rcgen::Error::CouldNotParseKeyPair)?;
        Ok((vec![cert.der().clone()], private, Some(cert.pem())))
    };
    build().map_err(|e| io_error("cannot generate the TLS certificate", e))
}
