//! The `[server]` options that protect a node put on the network as it is: the HTTPS listener (`https_port`,
//! `tls_*`, `https_redirect`), HTTP Basic authentication (`auth_users_file`), per-client rate limits
//! (`rate_limit`) and connection timeouts (`idle_timeout`, `request_body_timeout`).
//!
//! Every one is off by default but the timeouts. Paths are taken as written, relative ones from the working
//! directory, like every other file option. Certificate and users files are read again when they change; the
//! listener ports, and whether authentication or rate limiting is on at all, are read once at start.

use std::path::PathBuf;
use std::time::Duration;

use super::raw::RawSection;
use super::value::{self, Diagnostic};

/// The protections of the `[server]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Security {
    /// The HTTPS listener, when `https_port` is set.
    pub tls: Option<TlsOptions>,
    /// HTTP Basic authentication on the public listeners, when `auth_users_file` is set.
    pub auth: Option<AuthOptions>,
    /// Requests per second per client address on the public listeners, when `rate_limit` is set.
    pub rate_limit: Option<RateLimit>,
    /// `idle_timeout` (seconds, default 30): how long a connection may take to send a request's headers, and may
    /// stay open with no request (Jetty's `maxIdleTime` of 30 s in the deployment guide's connector).
    pub idle_timeout: Duration,
    /// `request_body_timeout` (seconds, default 30): how long a request's body may take to arrive once its
    /// headers have; beyond it the request is answered 408.
    pub request_body_timeout: Duration,
}

impl Default for Security {
    fn default() -> Security {
        Security {
            tls: None,
            auth: None,
            rate_limit: None,
            idle_timeout: Duration::from_secs(30),
            request_body_timeout: Duration::from_secs(30),
        }
    }
}

/// The HTTPS listener (the deployment guide's "SSL connector").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsOptions {
    /// `https_port`: the port of the HTTPS public listener (the plain `web_port` listener stays).
    pub https_port: u16,
    /// `tls_certificate`: PEM file with the certificate chain, the node's own certificate first.
    pub certificate: PathBuf,
    /// `tls_private_key`: PEM file with the certificate's private key (PKCS#8, PKCS#1 or SEC1).
    pub private_key: PathBuf,
    /// `tls_client_ca` (optional): PEM file of the authorities whose client certificates are accepted (the
    /// deployment guide's mutual authentication); a client without such a certificate is refused in the handshake.
    pub client_ca: Option<PathBuf>,
    /// `tls_client_auth` = `required` (default) or `optional`: with `optional`, a client may connect without a
    /// certificate, but one it presents must verify.
    pub client_auth_optional: bool,
    /// `https_redirect` (default false): the plain public listener answers every request with a redirect
    /// (308, method and body kept) to the same path on the HTTPS listener (Jetty's "confidential port").
    pub redirect: bool,
    /// `tls_internal` (default false): the internal listener speaks TLS too, with the same certificate.
    pub internal: bool,
}

/// HTTP Basic authentication against a file of users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthOptions {
    /// `auth_users_file`: one `name:hash` line per user, the hash an Argon2 PHC string (`gms hash-password`
    /// prints one); `#` starts a comment.
    pub users_file: PathBuf,
    /// `auth_realm` (default `GMS`): the realm of the `WWW-Authenticate` challenge.
    pub realm: String,
}

/// A per-client request rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// `rate_limit`: requests per second one client address may make on average.
    pub per_second: u32,
    /// `rate_limit_burst` (default: `rate_limit`): how many it may make at once after a quiet spell.
    pub burst: u32,
}

impl Security {
    /// Types the options of `section` (the `[server]` section).
    pub fn from_raw(section: &RawSection, errors: &mut Vec<Diagnostic>) -> Security {
        let mut security = Security::default();
        let path = |name: &str| {
            section
                .value(name)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let flag = |name: &str, errors: &mut Vec<Diagnostic>| match section.get(name) {
            Some(option) => value::boolean(option).unwrap_or_else(|diagnostic| {
                errors.push(diagnostic);
                false
            }),
            None => false,
        };
        if let Some(option) = section.get("https_port") {
            match value::integer::<u16>(option, 0, 65535) {
                Ok(https_port) => {
                    let certificate = path("tls_certificate");
                    let private_key = path("tls_private_key");
                    if certificate.is_none() || private_key.is_none() {
                        errors.push(Diagnostic::at(
                            option,
                            "option `https_port` needs options `tls_certificate` and `tls_private_key` (PEM files)",
                        ));
                    }
                    let client_auth_optional = match section.get("tls_client_auth") {
                        None => false,
                        Some(option) => match option.value.trim() {
                            "required" => false,
                            "optional" => true,
                            other => {
                                errors.push(Diagnostic::at(
                                    option,
                                    format!(
                                        "option `tls_client_auth` must be `required` or `optional`, found `{other}`"
                                    ),
                                ));
                                false
                            }
                        },
                    };
                    if let (Some(certificate), Some(private_key)) = (certificate, private_key) {
                        security.tls = Some(TlsOptions {
                            https_port,
                            certificate,
                            private_key,
                            client_ca: path("tls_client_ca"),
                            client_auth_optional,
                            redirect: flag("https_redirect", errors),
                            internal: flag("tls_internal", errors),
                        });
                    }
                }
                Err(diagnostic) => errors.push(diagnostic),
            }
        } else {
            for name in [
                "tls_certificate",
                "tls_private_key",
                "tls_client_ca",
                "https_redirect",
                "tls_internal",
            ] {
                if let Some(option) = section.get(name) {
                    errors.push(Diagnostic::at(
                        option,
                        format!("option `{name}` needs option `https_port` (the HTTPS listener)"),
                    ));
                }
            }
        }
        if let Some(users_file) = path("auth_users_file") {
            security.auth = Some(AuthOptions {
                users_file,
                realm: section
                    .value("auth_realm")
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .unwrap_or("GMS")
                    .to_string(),
            });
        }
        if let Some(realm) = section.get("auth_realm")
            && realm.value.contains(['"', '\\'])
        {
            errors.push(Diagnostic::at(
                realm,
                "option `auth_realm` may not hold `\"` or `\\`",
            ));
        }
        if let Some(option) = section.get("rate_limit") {
            match value::integer::<u32>(option, 1, 1_000_000) {
                Ok(per_second) => {
                    let burst = match section.get("rate_limit_burst") {
                        Some(burst) => value::integer::<u32>(burst, 1, 1_000_000).unwrap_or_else(
                            |diagnostic| {
                                errors.push(diagnostic);
                                per_second
                            },
                        ),
                        None => per_second,
                    };
                    security.rate_limit = Some(RateLimit { per_second, burst });
                }
                Err(diagnostic) => errors.push(diagnostic),
            }
        }
        for (name, slot) in [
            ("idle_timeout", &mut security.idle_timeout),
            ("request_body_timeout", &mut security.request_body_timeout),
        ] {
            if let Some(option) = section.get(name) {
                match value::seconds(option, 1, 3600) {
                    Ok(duration) => *slot = duration,
                    Err(diagnostic) => errors.push(diagnostic),
                }
            }
        }
        security
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RawConfig;

    fn parse(text: &str) -> (Security, Vec<Diagnostic>) {
        let raw = RawConfig::parse(std::path::Path::new("gms.ini"), text).expect("parses");
        let mut errors = Vec::new();
        let section = raw.section("server").expect("server section");
        (Security::from_raw(section, &mut errors), errors)
    }

    #[test]
    fn everything_is_off_by_default() {
        let (security, errors) = parse("[server]\nnode_id = 1\n");
        assert!(errors.is_empty());
        assert_eq!(security, Security::default());
    }

    #[test]
    fn https_needs_a_certificate_and_a_key() {
        let (security, errors) = parse("[server]\nhttps_port = 8443\ntls_certificate = c.pem\n");
        assert!(security.tls.is_none());
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].to_string().starts_with("gms.ini:2: "),
            "{errors:?}"
        );
        let (security, errors) = parse(
            "[server]\nhttps_port = 8443\ntls_certificate = c.pem\ntls_private_key = k.pem\n\
             tls_client_auth = optional\nhttps_redirect = true\n",
        );
        assert!(errors.is_empty(), "{errors:?}");
        let tls = security.tls.expect("tls");
        assert!(tls.client_auth_optional && tls.redirect && !tls.internal);
    }

    #[test]
    fn tls_options_without_a_port_are_reported() {
        let (_, errors) = parse("[server]\ntls_certificate = c.pem\n");
        assert_eq!(
            errors[0].to_string(),
            "gms.ini:2: option `tls_certificate` needs option `https_port` (the HTTPS listener)"
        );
    }

    #[test]
    fn rate_limit_and_auth() {
        let (security, errors) =
            parse("[server]\nrate_limit = 5\nauth_users_file = users\nauth_realm = Shop\n");
        assert!(errors.is_empty());
        assert_eq!(
            security.rate_limit,
            Some(RateLimit {
                per_second: 5,
                burst: 5
            })
        );
        assert_eq!(security.auth.expect("auth").realm, "Shop");
        let (_, errors) = parse("[server]\nrate_limit = 0\n");
        assert!(
            errors[0].to_string().contains("between 1 and"),
            "{errors:?}"
        );
    }
}
