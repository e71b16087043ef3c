//! TLS to PostgreSQL with rustls (already in tokend for SMTP, with the same `ring` provider),
//! honouring libpq's `sslmode`: managed databases (and any database reached over a network
//! one does not own) expect it. tokio-postgres asks the server for TLS and hands the socket
//! to `PgTls` when the server agrees; the handshake runs on the connecting thread like every
//! other exchange (`socket.rs`).

use super::conninfo::{Roots, SslMode, TlsSettings};
use super::socket::Stream;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, TlsConnect};

/// The rustls configuration for `settings`; `None` when TLS is off. Reads the root file now,
/// so a missing or unreadable one stops the start, not the first connection.
pub fn client_config(settings: &TlsSettings) -> Result<Option<Arc<ClientConfig>>, String> {
    if settings.mode == SslMode::Disable {
        return Ok(None);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // libpq: a root file means the chain is checked whenever TLS is on, in any mode (`conninfo`
    // already turned `require` with one into `verify-ca`, and `system` into `verify-full`).
    let chain = match &settings.roots {
        Some(roots) => Some(
            WebPkiServerVerifier::builder_with_provider(Arc::new(root_store(roots)?), provider.clone())
                .build()
                .map_err(|e| format!("the `sslrootcert` certificates cannot be used: {e}"))?,
        ),
        None if matches!(settings.mode, SslMode::VerifyCa | SslMode::VerifyFull) => {
            return Err("no `sslrootcert`".into());
        }
        None => None,
    };
    let verifier: Arc<dyn ServerCertVerifier> = match (settings.mode, chain) {
        (SslMode::VerifyFull, Some(chain)) => chain,
        (_, chain) => Arc::new(NameUnchecked { chain, provider: provider.clone() }),
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Some(Arc::new(config)))
}

fn root_store(roots: &Roots) -> Result<RootCertStore, String> {
    match roots {
        Roots::System => Ok(RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() }),
        Roots::File(path) => {
            let shown = path.display();
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("`sslrootcert` {shown}: {e}"))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("`sslrootcert` {shown}: {e}"))?;
            let mut store = RootCertStore::empty();
            let (added, _) = store.add_parsable_certificates(certs);
            if added == 0 {
                return Err(format!("`sslrootcert` {shown} holds no usable CA certificate (PEM expected)"));
            }
            Ok(store)
        }
    }
}

/// Every mode short of `verify-full`: the certificate's chain is checked when there is one to
/// check against (`verify-ca`, or `prefer` with a root file), never its host name (libpq's
/// meaning: for servers reached by an address their certificate does not name); without one
/// (`require`, `prefer`) any certificate passes, as libpq does — the link is encrypted but the
/// server not authenticated. The handshake's signatures are checked either way.
#[derive(Debug)]
struct NameUnchecked {
    chain: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for NameUnchecked {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else { return Ok(ServerCertVerified::assertion()) };
        match chain.verify_server_cert(end_entity, intermediates, name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
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

/// What tokio-postgres calls when the server agrees to TLS. Built per host: the name is the
/// one `verify-full` checks the certificate against.
pub struct PgTls {
    pub config: Option<Arc<ClientConfig>>,
    pub name: Option<ServerName<'static>>,
}

impl TlsConnect<Stream> for PgTls {
    type Stream = TlsStream;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = std::io::Result<TlsStream>> + Send>>;

    fn connect(self, stream: Stream) -> Self::Future {
        // tokio-postgres only asks when `sslmode` is not `disable`, and then both are set.
        let (Some(config), Some(name)) = (self.config, self.name) else {
            return Box::pin(async { Err(std::io::Error::other("TLS is disabled (sslmode=disable)")) });
        };
        let connector = tokio_rustls::TlsConnector::from(config);
        Box::pin(async move { connector.connect(name, stream).await.map(TlsStream) })
    }
}

/// The TLS session over the socket. Reads and writes that would block stay `Pending` from
/// the socket up, so the driver's edge-triggered poller still knows when to wake.
pub struct TlsStream(tokio_rustls::client::TlsStream<Stream>);

impl tokio_postgres::tls::TlsStream for TlsStream {
    /// No channel binding: its hash depends on the certificate's signature algorithm, and
    /// SCRAM without it is what libpq uses by default too (`channel_binding=prefer`).
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

impl AsyncRead for TlsStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
