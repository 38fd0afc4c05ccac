//! Bearer tokens: verified once at the edge into an [`Actor`], which the domain then
//! authorizes. Verification pins one algorithm (chosen by the configured key, never by the
//! token), so `alg: none` and algorithm switching are refused.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use quorum_core::{Actor, Role};
use serde_json::{Value, json};

use crate::config::{AuthArgs, Secret};

/// The secret `serve --dev` and `token --dev` sign with. It is public: never use it in
/// production (`serve` without `--dev` refuses to start without a real setting).
pub const DEV_SECRET: &str = "quorum-development-secret-NOT-FOR-PRODUCTION-USE";

/// Shortest HS256 secret accepted: RFC 7518 §3.2 asks for a key as long as the hash.
const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum AuthConfigError {
    #[error(
        "no token verification is configured: set QUORUM_JWT_SECRET (HS256, at least 32 bytes) \
         or QUORUM_JWT_PUBLIC_KEY_FILE (PEM public key for RS256 or ES256); \
         for a local trial run `quorum serve --dev`"
    )]
    Missing,
    #[error("set only one of QUORUM_JWT_SECRET and QUORUM_JWT_PUBLIC_KEY_FILE")]
    Both,
    #[error("QUORUM_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes long")]
    SecretTooShort,
    #[error("cannot read QUORUM_JWT_PUBLIC_KEY_FILE `{path}`: {source}")]
    ReadKey {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "QUORUM_JWT_PUBLIC_KEY_FILE `{path}` holds neither an RSA nor a P-256 EC public key in PEM"
    )]
    BadKey { path: PathBuf },
    #[error("QUORUM_ROLES_CLAIM must name a claim, e.g. `roles` or `realm_access.roles`")]
    EmptyRolesClaim,
    #[error(
        "minting tokens needs an HS256 secret (QUORUM_JWT_SECRET or --dev); \
         with a public key, tokens come from your identity provider"
    )]
    CannotSign,
    #[error(
        "with QUORUM_JWT_PUBLIC_KEY_FILE, also set QUORUM_JWT_ISSUER and QUORUM_JWT_AUDIENCE: \
         an identity provider signs tokens for many applications, and only these two claims \
         say a token was meant for Quorum"
    )]
    PublicKeyNeedsIssuerAndAudience,
    #[error(
        "--dev signs tokens with a public secret and ignores QUORUM_JWT_SECRET and \
         QUORUM_JWT_PUBLIC_KEY_FILE: unset them or drop --dev"
    )]
    DevWithRealKeys,
}

/// Why a presented token was refused. The message is safe to show the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejected {
    #[error("the Authorization header must be `Bearer <token>`")]
    MalformedHeader,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token's issuer is not accepted")]
    WrongIssuer,
    #[error("the token's audience is not accepted")]
    WrongAudience,
    #[error("the token's signature is invalid")]
    BadSignature,
    #[error("the token's algorithm is not accepted")]
    WrongAlgorithm,
    #[error("the token lacks the `{0}` claim")]
    MissingClaim(String),
    #[error("the token is malformed")]
    Malformed,
    #[error("the token names critical header extensions (`crit`) that are not understood here")]
    CriticalExtensions,
    #[error("the token's `sub` claim holds the character U+0000")]
    BadSubject,
}

impl From<jsonwebtoken::errors::Error> for TokenRejected {
    fn from(error: jsonwebtoken::errors::Error) -> Self {
        match error.kind() {
            ErrorKind::ExpiredSignature => TokenRejected::Expired,
            ErrorKind::ImmatureSignature => TokenRejected::NotYetValid,
            ErrorKind::InvalidIssuer => TokenRejected::WrongIssuer,
            ErrorKind::InvalidAudience => TokenRejected::WrongAudience,
            ErrorKind::InvalidSignature => TokenRejected::BadSignature,
            ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => {
                TokenRejected::WrongAlgorithm
            }
            ErrorKind::MissingRequiredClaim(claim) => TokenRejected::MissingClaim(claim.clone()),
            _ => TokenRejected::Malformed,
        }
    }
}

/// Checks bearer tokens and reads the actor out of them.
pub struct TokenVerifier {
    key: DecodingKey,
    validation: Validation,
    /// The claim name, or a dotted path into nested objects.
    roles_claim: String,
}

/// Mints HS256 tokens that a [`TokenVerifier`] with the same settings accepts.
pub struct TokenSigner {
    key: EncodingKey,
    issuer: Option<String>,
    audience: Option<String>,
}

/// The verifier for `args`, and a signer when the key is a shared secret.
pub fn from_args(
    args: &AuthArgs,
    dev: bool,
) -> Result<(TokenVerifier, Option<TokenSigner>), AuthConfigError> {
    let roles_claim = args.roles_claim.trim().to_owned();
    if roles_claim.is_empty() || roles_claim.split('.').any(str::is_empty) {
        return Err(AuthConfigError::EmptyRolesClaim);
    }
    if dev && (args.jwt_secret.is_some() || args.jwt_public_key_file.is_some()) {
        return Err(AuthConfigError::DevWithRealKeys);
    }
    let secret = if dev {
        Some(Secret::new(DEV_SECRET))
    } else {
        args.jwt_secret.clone()
    };
    let public_key = args.jwt_public_key_file.as_deref();
    let (key, algorithm, signer_key) = match (secret, public_key) {
        (Some(_), Some(_)) => return Err(AuthConfigError::Both),
        (None, None) => return Err(AuthConfigError::Missing),
        (Some(secret), None) => {
            let bytes = secret.expose().as_bytes();
            if bytes.len() < MIN_SECRET_BYTES {
                return Err(AuthConfigError::SecretTooShort);
            }
            (
                DecodingKey::from_secret(bytes),
                Algorithm::HS256,
                Some(EncodingKey::from_secret(bytes)),
            )
        }
        (None, Some(path)) => {
            let (key, algorithm) = read_public_key(path)?;
            (key, algorithm, None)
        }
    };

    let mut validation = Validation::new(algorithm);
    validation.validate_nbf = true;
    let identity_provider = public_key.is_some();
    let mut required = vec!["exp", "sub"];
    // An empty setting (as `VAR=` in a compose file leaves it) means "not set".
    let issuer = args
        .jwt_issuer
        .as_deref()
        .filter(|issuer| !issuer.is_empty());
    let audience = args
        .jwt_audience
        .as_deref()
        .filter(|audience| !audience.is_empty());
    if identity_provider && (issuer.is_none() || audience.is_none()) {
        return Err(AuthConfigError::PublicKeyNeedsIssuerAndAudience);
    }
    match issuer {
        Some(issuer) => {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        None => validation.iss = None,
    }
    match audience {
        Some(audience) => {
            validation.set_audience(&[audience]);
            required.push("aud");
        }
        // Only with our own HS256 secret: nobody else issues tokens with it.
        None => validation.validate_aud = false,
    }
    validation.set_required_spec_claims(&required);

    let signer = signer_key.map(|key| TokenSigner {
        key,
        issuer: issuer.map(str::to_owned),
        audience: audience.map(str::to_owned),
    });
    Ok((
        TokenVerifier {
            key,
            validation,
            roles_claim,
        },
        signer,
    ))
}

fn read_public_key(path: &Path) -> Result<(DecodingKey, Algorithm), AuthConfigError> {
    let pem = std::fs::read(path).map_err(|source| AuthConfigError::ReadKey {
        path: path.to_owned(),
        source,
    })?;
    if let Ok(key) = DecodingKey::from_rsa_pem(&pem) {
        return Ok((key, Algorithm::RS256));
    }
    if let Ok(key) = DecodingKey::from_ec_pem(&pem) {
        return Ok((key, Algorithm::ES256));
    }
    Err(AuthConfigError::BadKey {
        path: path.to_owned(),
    })
}

impl TokenVerifier {
    /// The value of an `Authorization` header, verified into an actor.
    pub fn verify_header(&self, header: &str) -> Result<Actor, TokenRejected> {
        self.verify_header_with_expiry(header)
            .map(|(actor, _)| actor)
    }

    pub fn verify(&self, token: &str) -> Result<Actor, TokenRejected> {
        self.verify_with_expiry(token).map(|(actor, _)| actor)
    }

    /// The value of an `Authorization` header, verified into an actor and the instant its
    /// token expires (seconds since the epoch): a WebSocket outlives one request, so each
    /// subscription checks the expiry again when it starts.
    pub fn verify_header_with_expiry(&self, header: &str) -> Result<(Actor, u64), TokenRejected> {
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or(TokenRejected::MalformedHeader)?;
        self.verify_with_expiry(token)
    }

    fn verify_with_expiry(&self, token: &str) -> Result<(Actor, u64), TokenRejected> {
        let data = jsonwebtoken::decode::<Value>(token, &self.key, &self.validation)?;
        // RFC 7515 §4.1.11: a recipient that does not understand every extension `crit` lists
        // must reject the token; none is understood here.
        if data.header.crit.is_some() {
            return Err(TokenRejected::CriticalExtensions);
        }
        let claims = data.claims;
        let expires_at = claims
            .get("exp")
            .and_then(Value::as_u64)
            .ok_or_else(|| TokenRejected::MissingClaim("exp".into()))?;
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|subject| !subject.is_empty())
            .ok_or_else(|| TokenRejected::MissingClaim("sub".into()))?;
        // The subject is written into every event the caller makes; no store keeps U+0000 alike.
        if subject.contains('\0') {
            return Err(TokenRejected::BadSubject);
        }
        Ok((
            Actor::from_claims(subject, role_values(claim_at(&claims, &self.roles_claim))),
            expires_at,
        ))
    }
}

/// The claim named `path`: a top-level claim of that exact name first (namespaced claims such
/// as `https://example.com/roles` contain dots), else the dotted path into nested objects.
fn claim_at<'a>(claims: &'a Value, path: &str) -> Option<&'a Value> {
    claims.get(path).or_else(|| {
        path.split('.')
            .try_fold(claims, |value, segment| value.get(segment))
    })
}

/// Role values from the claim: a list of strings, or one string of space- or comma-separated
/// values (both shapes are issued in the wild). Anything else grants no role.
fn role_values(claim: Option<&Value>) -> Vec<&str> {
    match claim {
        Some(Value::Array(values)) => values.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(values)) => values
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|value| !value.is_empty())
            .collect(),
        _ => Vec::new(),
    }
}

impl TokenSigner {
    /// A token for `subject` with `roles` in a top-level `roles` claim, valid for `ttl`.
    pub fn mint(
        &self,
        subject: &str,
        roles: &[Role],
        ttl: Duration,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let mut claims = json!({
            "sub": subject,
            "roles": roles.iter().map(|role| role.as_claim()).collect::<Vec<_>>(),
            "iat": now,
            "nbf": now,
            "exp": now + ttl.as_secs(),
        });
        if let Some(issuer) = &self.issuer {
            claims["iss"] = json!(issuer);
        }
        if let Some(audience) = &self.audience {
            claims["aud"] = json!(audience);
        }
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_name_with_dots_is_read_whole_before_as_a_path() {
        let claims = json!({
            "https://quorum.example/roles": ["SERVICE_HEAD"],
            "realm_access": { "roles": ["ENGINEER"] },
        });
        assert_eq!(
            claim_at(&claims, "https://quorum.example/roles"),
            Some(&json!(["SERVICE_HEAD"]))
        );
        assert_eq!(
            claim_at(&claims, "realm_access.roles"),
            Some(&json!(["ENGINEER"]))
        );
        assert_eq!(claim_at(&claims, "realm_access.missing"), None);
    }

    #[test]
    fn roles_may_come_as_a_list_or_as_one_separated_string() {
        let list = json!(["ENGINEER", "CAB_MEMBER"]);
        assert_eq!(role_values(Some(&list)), ["ENGINEER", "CAB_MEMBER"]);
        let string = json!("ENGINEER CAB_MEMBER,SERVICE_HEAD");
        assert_eq!(
            role_values(Some(&string)),
            ["ENGINEER", "CAB_MEMBER", "SERVICE_HEAD"]
        );
        assert!(role_values(Some(&json!(7))).is_empty());
        assert!(role_values(None).is_empty());
    }
}
