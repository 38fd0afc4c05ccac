//! Which browser origins may call the API (`QUORUM_CORS_ORIGINS`), for HTTP (CORS, answered by
//! tower-http's layer) and for the WebSocket upgrade, which browsers do not subject to CORS:
//! without the same check there, any page a user visits could open a socket with the user's
//! credentials (cross-site WebSocket hijacking).

use std::time::Duration;

use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue, Method, request::Parts};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The origins allowed to call the API from a browser, besides the server's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// None: only same-origin pages (GraphiQL served here) and non-browser clients.
    None,
    /// Exactly these, e.g. `https://itsm.example.com`.
    List(Vec<String>),
    /// Any origin (`*`): tokens travel in headers, never cookies, so this is safe only for
    /// public read-only deployments; refused together with credentials.
    Any,
    /// Any origin on a loopback host (`localhost`, `127.0.0.1`, `[::1]`), any port: what
    /// `serve --dev` allows, so a front-end dev server on another port can call it.
    Loopback,
}

/// Why a CORS setting is refused at start.
#[derive(Debug, thiserror::Error)]
pub enum CorsConfigError {
    #[error(
        "QUORUM_CORS_ORIGINS=* cannot be combined with QUORUM_CORS_ALLOW_CREDENTIALS=true: \
         browsers refuse it, and it would let any site act with a user's credentials"
    )]
    AnyWithCredentials,
    #[error(
        "QUORUM_CORS_ORIGINS holds `{0}`, which is not an origin like `https://app.example.com`"
    )]
    NotAnOrigin(String),
}

impl CorsOrigins {
    /// The setting from `QUORUM_CORS_ORIGINS` (comma-separated origins, or `*`), or the
    /// default of the mode: loopback origins in `--dev`, none otherwise.
    pub fn parse(
        value: Option<&str>,
        dev: bool,
        credentials: bool,
    ) -> Result<Self, CorsConfigError> {
        let entries: Vec<&str> = value
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .collect();
        let origins = if entries.is_empty() {
            if dev {
                CorsOrigins::Loopback
            } else {
                CorsOrigins::None
            }
        } else if entries == ["*"] {
            if credentials {
                return Err(CorsConfigError::AnyWithCredentials);
            }
            CorsOrigins::Any
        } else {
            let mut list = Vec::with_capacity(entries.len());
            for entry in entries {
                let origin = entry.trim_end_matches('/');
                let valid = (origin.starts_with("http://") || origin.starts_with("https://"))
                    && !origin["https://".len().min(origin.len())..].contains('/')
                    && HeaderValue::from_str(origin).is_ok();
                if !valid {
                    return Err(CorsConfigError::NotAnOrigin(entry.to_owned()));
                }
                list.push(origin.to_ascii_lowercase());
            }
            CorsOrigins::List(list)
        };
        Ok(origins)
    }

    /// Whether a browser page of `origin` may call the API.
    pub fn allows(&self, origin: &str) -> bool {
        let origin = origin.to_ascii_lowercase();
        match self {
            CorsOrigins::None => false,
            CorsOrigins::Any => true,
            CorsOrigins::List(list) => list.contains(&origin),
            CorsOrigins::Loopback => is_loopback(&origin),
        }
    }

    /// Whether a WebSocket upgrade carrying `origin` (none from non-browser clients) may go
    /// on, when the request was addressed to `host`: same-origin pages and allowed origins.
    pub fn allows_socket(&self, origin: Option<&str>, host: Option<&str>) -> bool {
        let Some(origin) = origin else {
            return true;
        };
        let same_origin = host.is_some_and(|host| {
            let host = host.to_ascii_lowercase();
            let origin = origin.to_ascii_lowercase();
            origin == format!("http://{host}") || origin == format!("https://{host}")
        });
        same_origin || self.allows(origin)
    }

    /// The CORS layer for the API's routes.
    pub fn layer(&self, credentials: bool) -> CorsLayer {
        let layer = CorsLayer::new()
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                AUTHORIZATION,
                CONTENT_TYPE,
                HeaderName::from_static("apollographql-client-name"),
                HeaderName::from_static("apollographql-client-version"),
            ])
            .expose_headers([HeaderName::from_static("x-trace-id")])
            .allow_credentials(credentials)
            .max_age(Duration::from_secs(600));
        let policy = self.clone();
        layer.allow_origin(AllowOrigin::predicate(
            move |origin: &HeaderValue, _: &Parts| {
                origin.to_str().is_ok_and(|origin| policy.allows(origin))
            },
        ))
    }
}

fn is_loopback(origin: &str) -> bool {
    let Some(rest) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    let host = if let Some(bracketed) = rest.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        rest.split(':').next().unwrap_or_default()
    };
    matches!(host, "localhost" | "127.0.0.1" | "::1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_allows_exactly_its_origins() {
        let origins = CorsOrigins::parse(
            Some("https://itsm.example.com, http://127.0.0.1:5173/"),
            false,
            false,
        )
        .expect("valid");
        assert!(origins.allows("https://itsm.example.com"));
        assert!(origins.allows("http://127.0.0.1:5173"));
        assert!(!origins.allows("https://evil.example.com"));
        assert!(!origins.allows("http://127.0.0.1:5174"));
    }

    #[test]
    fn dev_allows_loopback_on_any_port_and_nothing_else() {
        let origins = CorsOrigins::parse(None, true, false).expect("valid");
        assert!(origins.allows("http://localhost:3000"));
        assert!(origins.allows("http://127.0.0.1:5173"));
        assert!(origins.allows("http://[::1]:8000"));
        assert!(!origins.allows("http://localhost.evil.com"));
        assert!(!origins.allows("https://example.com"));
        assert_eq!(
            CorsOrigins::parse(None, false, false).expect("valid"),
            CorsOrigins::None
        );
    }

    #[test]
    fn any_origin_with_credentials_is_refused() {
        assert!(matches!(
            CorsOrigins::parse(Some("*"), false, true),
            Err(CorsConfigError::AnyWithCredentials)
        ));
        assert_eq!(
            CorsOrigins::parse(Some("*"), false, false).expect("valid"),
            CorsOrigins::Any
        );
        assert!(CorsOrigins::parse(Some("example.com"), false, false).is_err());
    }

    #[test]
    fn sockets_take_same_origin_pages_allowed_origins_and_clients_without_an_origin() {
        let origins =
            CorsOrigins::parse(Some("https://itsm.example.com"), false, false).expect("valid");
        assert!(origins.allows_socket(None, Some("quorum:8080")));
        assert!(origins.allows_socket(Some("http://quorum:8080"), Some("quorum:8080")));
        assert!(origins.allows_socket(Some("https://itsm.example.com"), Some("quorum:8080")));
        assert!(!origins.allows_socket(Some("https://evil.example.com"), Some("quorum:8080")));
    }
}
