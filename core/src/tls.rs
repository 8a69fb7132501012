//! Whom HTTPS trusts: the platform's roots plus the profile's
//! `caCertificate`, and a server certificate byte-identical to one pinned
//! there. The `wf` CLI pins a local server's self-signed certificate, which
//! is also a CA; normal verification refuses that (`CaUsedAsEndEntity`), so
//! an exact match of the pinned bytes (for the right host name) is accepted
//! and everything else goes through the platform's verification.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::error::{Argument, Error, Result};

/// The certificates of a PEM bundle; a bundle with none is an error.
fn certificates(pem: &str) -> Result<Vec<CertificateDer<'static>>> {
    let invalid = |m: String| Error::invalid(Argument::CaCertificate, "invalidValue", m);
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(format!("is not a PEM bundle: {e}")))?;
    if certs.is_empty() {
        return Err(invalid("holds no PEM certificate".to_owned()));
    }
    Ok(certs)
}

/// The TLS configuration for a client that pins `ca_pem`.
pub(crate) fn pinning_config(ca_pem: &str) -> Result<rustls::ClientConfig> {
    let pinned = certificates(ca_pem)?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verified = rustls_platform_verifier::Verifier::new_with_extra_roots(pinned.clone(), Arc::clone(&provider))
        .map_err(|e| Error::config_with(format!("cannot set up HTTPS with the pinned certificate: {e}"), e))?;
    let verifier = PinnedOrVerified {
        pinned,
        verified: Arc::new(verified),
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::config_with(format!("cannot set up HTTPS: {e}"), e))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Refuses a certificate outside its validity period at `now`.
fn check_dates(cert: &CertificateDer<'_>, now: UnixTime) -> std::result::Result<(), rustls::Error> {
    use rustls::CertificateError::{BadEncoding, Expired, NotValidYet};
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref())
        .map_err(|_| rustls::Error::InvalidCertificate(BadEncoding))?;
    let seconds = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let validity = parsed.validity();
    if seconds < validity.not_before.timestamp() {
        return Err(rustls::Error::InvalidCertificate(NotValidYet));
    }
    if seconds > validity.not_after.timestamp() {
        return Err(rustls::Error::InvalidCertificate(Expired));
    }
    Ok(())
}

/// Accepts a certificate identical to a pinned one, else asks the platform.
#[derive(Debug)]
struct PinnedOrVerified {
    pinned: Vec<CertificateDer<'static>>,
    verified: Arc<dyn ServerCertVerifier>,
}

impl ServerCertVerifier for PinnedOrVerified {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        if self.pinned.iter().any(|p| p.as_ref() == end_entity.as_ref()) {
            // Pinned bytes stand in for the chain, not for the name or the dates.
            let cert = webpki::EndEntityCert::try_from(end_entity)
                .map_err(|_| rustls::Error::InvalidCertificate(rustls::CertificateError::BadEncoding))?;
            cert.verify_is_valid_for_subject_name(server_name)
                .map_err(|_| rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName))?;
            check_dates(end_entity, now)?;
            return Ok(ServerCertVerified::assertion());
        }
        self.verified
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.verified.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.verified.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.verified.supported_verify_schemes()
    }
}
