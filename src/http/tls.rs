//! The HTTPS listener's TLS settings (rustls): the certificate chain and key from PEM files, HTTP/2 and HTTP/1.1
//! offered by ALPN, client certificates verified against `tls_client_ca` when it is set (mutual authentication),
//! and the files read again when they change, so a renewed certificate is served without a restart.
//!
//! New connections take the settings current when they arrive; connections already open keep theirs. A file that
//! changes into something unusable (half-written, wrong key) is reported and the previous settings stay.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio_rustls::TlsAcceptor;

use crate::config::security::TlsOptions;

/// Why the TLS settings could not be built.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read `{path}`: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file holds no usable PEM item of the kind needed.
    #[error("`{path}` holds no {what} (PEM)")]
    Missing {
        /// The file.
        path: PathBuf,
        /// What was looked for.
        what: &'static str,
    },
    /// rustls refused the settings (a key that does not match its certificate, a bad authority...).
    #[error("TLS settings refused: {0}")]
    Refused(String),
}

/// The TLS settings of a listener, swapped whole when their files change.
#[derive(Debug)]
pub struct Certificates {
    options: TlsOptions,
    current: ArcSwap<ServerConfig>,
    /// The modification time and length of each file when last read.
    stamps: Mutex<Vec<Option<(SystemTime, u64)>>>,
}

impl Certificates {
    /// Reads the files of `options`.
    pub fn load(options: &TlsOptions) -> Result<Arc<Certificates>, Error> {
        let stamps = stamps(options);
        let config = server_config(options)?;
        Ok(Arc::new(Certificates {
            options: options.clone(),
            current: ArcSwap::from_pointee(config),
            stamps: Mutex::new(stamps),
        }))
    }

    /// An acceptor with the current settings.
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.current.load_full())
    }

    /// Reads the files again if any changed since they were last read; `Ok(true)` when new settings are in use.
    pub fn reload_if_changed(&self) -> Result<bool, Error> {
        let now = stamps(&self.options);
        let Ok(mut seen) = self.stamps.lock() else {
            return Ok(false);
        };
        if *seen == now {
            return Ok(false);
        }
        // Remembered even when the files are unusable, so a broken file is reported once, not at every poll.
        *seen = now;
        drop(seen);
        let config = server_config(&self.options)?;
        self.current.store(Arc::new(config));
        Ok(true)
    }

    /// Checks the files every `every` until `stop` resolves, logging each change.
    pub async fn watch(
        self: Arc<Self>,
        every: Duration,
        stop: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(stop);
        let mut ticks = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = &mut stop => return,
                _ = ticks.tick() => match self.reload_if_changed() {
                    Ok(true) => tracing::info!(
                        certificate = %self.options.certificate.display(),
                        "TLS certificate files changed: new connections use them"
                    ),
                    Ok(false) => {}
                    Err(error) => tracing::error!(
                        "TLS certificate files changed but cannot be used ({error}); the previous ones stay"
                    ),
                },
            }
        }
    }
}

fn files(options: &TlsOptions) -> Vec<&Path> {
    let mut files = vec![options.certificate.as_path(), options.private_key.as_path()];
    files.extend(options.client_ca.as_deref());
    files
}

fn stamps(options: &TlsOptions) -> Vec<Option<(SystemTime, u64)>> {
    files(options)
        .into_iter()
        .map(|path| {
            let metadata = std::fs::metadata(path).ok()?;
            Some((metadata.modified().ok()?, metadata.len()))
        })
        .collect()
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let bytes = read(path)?;
    let certificates: Vec<_> = rustls_pemfile::certs(&mut BufReader::new(bytes.as_slice()))
        .filter_map(Result::ok)
        .collect();
    if certificates.is_empty() {
        return Err(Error::Missing {
            path: path.to_path_buf(),
            what: "certificate",
        });
    }
    Ok(certificates)
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, Error> {
    let bytes = read(path)?;
    rustls_pemfile::private_key(&mut BufReader::new(bytes.as_slice()))
        .ok()
        .flatten()
        .ok_or_else(|| Error::Missing {
            path: path.to_path_buf(),
            what: "private key",
        })
}

/// The rustls settings of `options`: safe protocol versions, ALPN `h2` then `http/1.1`, client certificates when
/// `tls_client_ca` is set.
fn server_config(options: &TlsOptions) -> Result<ServerConfig, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = certificates(&options.certificate)?;
    let key = private_key(&options.private_key)?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|error| Error::Refused(error.to_string()))?;
    let builder = match &options.client_ca {
        None => builder.with_no_client_auth(),
        Some(path) => {
            let mut roots = rustls::RootCertStore::empty();
            for certificate in certificates(path)? {
                roots
                    .add(certificate)
                    .map_err(|error| Error::Refused(format!("`{}`: {error}", path.display())))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = if options.client_auth_optional {
                verifier.allow_unauthenticated()
            } else {
                verifier
            };
            builder.with_client_cert_verifier(
                verifier
                    .build()
                    .map_err(|error| Error::Refused(error.to_string()))?,
            )
        }
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|error| Error::Refused(error.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}
