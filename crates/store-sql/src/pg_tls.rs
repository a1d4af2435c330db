//! TLS to PostgreSQL, chosen by `sslmode` (and `sslrootcert`) in `DATABASE_URL`, as
//! libpq reads them:
//!
//! | `sslmode`              | connection                                              |
//! |------------------------|---------------------------------------------------------|
//! | unset, `disable`, `prefer` | plain TCP, as before TLS was supported              |
//! | `require`              | TLS; the certificate is not checked, unless `sslrootcert` is given (then as `verify-ca`) |
//! | `verify-ca`            | TLS; the certificate chains to `sslrootcert` (or the system's CAs) |
//! | `verify-full`          | as `verify-ca`, and the certificate names the host      |
//!
//! tokio-postgres knows neither `verify-*` nor `sslrootcert`: they are taken out of
//! the URL here, tokio-postgres is asked for `sslmode=require`, and the certificate
//! check happens in the rustls configuration handed to `tokio-postgres-rustls`.

use diesel::ConnectionError;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use std::sync::Arc;
use thiserror::Error;

/// What is wrong with the TLS settings of `DATABASE_URL`.
#[derive(Debug, Error)]
pub(crate) enum TlsSettingsError {
    #[error("sslmode={0} is not supported: use disable, prefer, require, verify-ca or verify-full")]
    UnknownMode(String),
    #[error("sslrootcert={path}")]
    CaFile {
        path: String,
        #[source]
        source: rustls_pki_types::pem::Error,
    },
    #[error("sslrootcert={0}: no certificate in it")]
    NoCertificate(String),
    #[error("no system CA certificates found: give sslrootcert=PATH")]
    NoSystemCertificates,
    #[error("TLS setup")]
    Rustls(#[from] rustls::Error),
    #[error("certificate check setup")]
    Verifier(#[from] rustls::client::VerifierBuilderError),
}

/// How certificates are checked, from `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verify {
    /// `require` without `sslrootcert`: encrypted, certificate not checked.
    Nothing,
    /// `verify-ca` (or `require` with `sslrootcert`): the chain, not the host name.
    Chain,
    /// `verify-full`: the chain and the host name.
    ChainAndHost,
}

/// A PostgreSQL URL made ready for tokio-postgres, and the TLS it asks for.
#[derive(Clone)]
pub(crate) struct PgConnectSettings {
    /// The URL without `sslrootcert`, with `sslmode` in a form tokio-postgres reads.
    url: String,
    tls: Option<Arc<ClientConfig>>,
}

impl PgConnectSettings {
    /// Reads `sslmode` and `sslrootcert` from `url`; the error says what is wrong
    /// (the caller names `DATABASE_URL`).
    pub(crate) fn from_url(url: &str) -> Result<Self, TlsSettingsError> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut sslmode = None;
        let mut root_cert = None;
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("sslmode", value)) => sslmode = Some(value.to_owned()),
                Some(("sslrootcert", value)) => root_cert = Some(value.to_owned()),
                _ => kept.push(pair.to_owned()),
            }
        }
        let verify = match (sslmode.as_deref(), &root_cert) {
            (None | Some("disable" | "prefer"), _) => None,
            (Some("require"), None) => Some(Verify::Nothing),
            (Some("require" | "verify-ca"), Some(_)) | (Some("verify-ca"), None) => Some(Verify::Chain),
            (Some("verify-full"), _) => Some(Verify::ChainAndHost),
            (Some(other), _) => return Err(TlsSettingsError::UnknownMode(other.to_owned())),
        };
        let Some(verify) = verify else {
            // Plain as before: `prefer` does not try TLS first (documented).
            if let Some(mode) = sslmode {
                kept.push(format!("sslmode={mode}"));
            }
            return Ok(Self { url: join(base, &kept), tls: None });
        };
        kept.push("sslmode=require".to_owned());
        let tls = client_config(verify, root_cert.as_deref())?;
        Ok(Self { url: join(base, &kept), tls: Some(Arc::new(tls)) })
    }

    /// Whether connections are encrypted.
    pub(crate) fn uses_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Opens one connection.
    pub(crate) async fn establish(&self) -> diesel::ConnectionResult<AsyncPgConnection> {
        match &self.tls {
            None => AsyncPgConnection::establish(&self.url).await,
            Some(config) => {
                let (client, connection) = tokio_postgres::connect(
                    &self.url,
                    tokio_postgres_rustls::MakeRustlsConnect::new(ClientConfig::clone(config)),
                )
                .await
                // diesel's error holds text, and tokio-postgres leaves the cause
                // (the certificate that was refused, say) out of its own.
                .map_err(|e| ConnectionError::BadConnection(chitchat_domain::error_chain(&e)))?;
                AsyncPgConnection::try_from_client_and_connection(client, connection).await
            }
        }
    }
}

fn join(base: &str, params: &[String]) -> String {
    if params.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", params.join("&"))
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// `sslrootcert=PATH` (PEM, one or more certificates), or the system's CAs when it
/// is missing or `system`.
fn root_store(root_cert: Option<&str>) -> Result<RootCertStore, TlsSettingsError> {
    let mut roots = RootCertStore::empty();
    match root_cert {
        Some(path) if path != "system" => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|source| TlsSettingsError::CaFile { path: path.to_owned(), source })?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(TlsSettingsError::NoCertificate(path.to_owned()));
            }
        }
        _ => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                return Err(TlsSettingsError::NoSystemCertificates);
            }
        }
    }
    Ok(roots)
}

fn client_config(verify: Verify, root_cert: Option<&str>) -> Result<ClientConfig, TlsSettingsError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone()).with_safe_default_protocol_versions()?;
    let chain = match verify {
        Verify::Nothing => None,
        Verify::Chain | Verify::ChainAndHost => Some(
            WebPkiServerVerifier::builder_with_provider(Arc::new(root_store(root_cert)?), provider.clone()).build()?,
        ),
    };
    let verifier = PgVerifier { provider, chain, host: verify == Verify::ChainAndHost };
    Ok(builder.dangerous().with_custom_certificate_verifier(Arc::new(verifier)).with_no_client_auth())
}

/// The certificate check of `sslmode`: none (`require` without a CA, encrypted
/// against eavesdropping only, as libpq), or the chain through webpki, with or
/// without the host name. Handshake signatures are always checked.
#[derive(Debug)]
struct PgVerifier {
    provider: Arc<CryptoProvider>,
    /// None: the certificate is not checked.
    chain: Option<Arc<WebPkiServerVerifier>>,
    /// `verify-full`: the certificate must name the host.
    host: bool,
}

impl ServerCertVerifier for PgVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else { return Ok(ServerCertVerified::assertion()) };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            // webpki checks the chain before the name: a name error means the chain held.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.host => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_modes_keep_the_url_and_use_no_tls() {
        for url in ["postgres://u@h/db", "postgres://u@h/db?sslmode=disable", "postgres://u@h/db?sslmode=prefer"] {
            let settings = PgConnectSettings::from_url(url).unwrap();
            assert!(!settings.uses_tls(), "{url}");
            assert_eq!(settings.url, url);
        }
    }

    #[test]
    fn require_asks_tokio_postgres_for_tls_and_drops_sslrootcert() {
        let settings =
            PgConnectSettings::from_url("postgres://u@h/db?application_name=x&sslmode=verify-full&sslrootcert=system");
        // Without system CAs on the machine the error names the way out.
        match settings {
            Ok(settings) => {
                assert!(settings.uses_tls());
                assert_eq!(settings.url, "postgres://u@h/db?application_name=x&sslmode=require");
            }
            Err(error) => assert!(error.to_string().contains("sslrootcert"), "{error}"),
        }
        let settings = PgConnectSettings::from_url("postgres://u@h/db?sslmode=require").unwrap();
        assert!(settings.uses_tls());
        assert_eq!(settings.url, "postgres://u@h/db?sslmode=require");
    }

    #[test]
    fn unknown_modes_and_missing_ca_files_are_refused() {
        assert!(PgConnectSettings::from_url("postgres://u@h/db?sslmode=allow").is_err());
        let error =
            PgConnectSettings::from_url("postgres://u@h/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem")
                .err()
                .unwrap();
        assert!(error.to_string().contains("sslrootcert=/nonexistent/ca.pem"), "{error}");
    }
}
