//! Persisted documents: Apollo's automatic persisted queries (a client sends the SHA-256 of
//! its document; the server answers `PersistedQueryNotFound` until the client sends the
//! document with its hash once, after which the hash alone is enough, on every instance that
//! shares the database), and, for production, an allow-list of trusted documents
//! (`QUORUM_TRUSTED_DOCUMENTS`): then only the documents of the manifest run, named by hash
//! or sent whole.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::{Request, ServerError, Value as ConstValue};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use sha2::{Digest, Sha256};

use crate::error::{BAD_USER_INPUT, with_code};

/// `extensions.code` (and, as Apollo's link expects, the message) of a hash the server does
/// not know yet: send the document with its hash.
pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
/// `extensions.code` of a document that is not in the trusted-documents manifest.
pub const DOCUMENT_NOT_TRUSTED: &str = "DOCUMENT_NOT_TRUSTED";

/// Documents kept in memory per instance (the database holds them all).
const CACHED: usize = 2_000;

/// The trusted documents, by their SHA-256 (lower-case hex).
pub type TrustedDocuments = HashMap<String, String>;

/// Reads a trusted-documents manifest: the GraphQL Code Generator's `persisted-documents.json`
/// (`{ "<sha256>": "<document>" }`) or Apollo's persisted query manifest (`{ "format":
/// "apollo-persisted-query-manifest", "operations": [{ "id", "body" }] }`). Every id must be
/// the SHA-256 of its document.
pub fn read_manifest(json: &str) -> Result<TrustedDocuments, String> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|error| format!("not JSON: {error}"))?;
    let entries: Vec<(String, String)> = match value.get("operations") {
        Some(operations) => operations
            .as_array()
            .ok_or("`operations` is not a list")?
            .iter()
            .map(|operation| {
                let id = operation["id"].as_str().ok_or("an operation has no `id`")?;
                let body = operation["body"]
                    .as_str()
                    .ok_or("an operation has no `body`")?;
                Ok((id.to_owned(), body.to_owned()))
            })
            .collect::<Result<_, &str>>()?,
        None => value
            .as_object()
            .ok_or("expected an object of hashes to documents")?
            .iter()
            .map(|(id, body)| {
                let body = body.as_str().ok_or("a document is not a string")?;
                Ok((id.clone(), body.to_owned()))
            })
            .collect::<Result<_, &str>>()?,
    };
    let mut trusted = HashMap::with_capacity(entries.len());
    for (id, body) in entries {
        let hash = sha256(&body);
        if id.to_ascii_lowercase() != hash {
            return Err(format!(
                "`{id}` is not the SHA-256 of its document ({hash})"
            ));
        }
        trusted.insert(hash, body);
    }
    Ok(trusted)
}

/// The SHA-256 of `document`, in lower-case hex.
pub fn sha256(document: &str) -> String {
    Sha256::digest(document.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Where documents are looked up by hash.
pub(crate) struct Documents {
    db: DatabaseConnection,
    trusted: Option<Arc<TrustedDocuments>>,
    cache: Mutex<lru::LruCache<String, Arc<str>>>,
}

fn refused(message: &str, code: &str) -> ServerError {
    with_code(ServerError::new(message, None), code)
}

/// The hash a request names, if it names one (`extensions.persistedQuery.sha256Hash`, Apollo's
/// protocol, version 1).
fn named_hash(request: &Request) -> Result<Option<String>, ServerError> {
    let Some(persisted) = request.extensions.0.get("persistedQuery") else {
        return Ok(None);
    };
    let field = |name: &str| match persisted {
        ConstValue::Object(fields) => fields.get(name).cloned(),
        _ => None,
    };
    if field("version") != Some(ConstValue::from(1)) {
        return Err(refused(
            "persistedQuery: only version 1 is supported",
            BAD_USER_INPUT,
        ));
    }
    match field("sha256Hash") {
        Some(ConstValue::String(hash)) if hash.len() == 64 => Ok(Some(hash.to_ascii_lowercase())),
        _ => Err(refused(
            "persistedQuery.sha256Hash must be the 64 hex digits of the document's SHA-256",
            BAD_USER_INPUT,
        )),
    }
}

impl Documents {
    pub(crate) fn new(db: DatabaseConnection, trusted: Option<Arc<TrustedDocuments>>) -> Self {
        Self {
            db,
            trusted,
            cache: Mutex::new(lru::LruCache::new(
                NonZeroUsize::new(CACHED).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }

    /// Fills in `request.query` from the hash it names, registers a new document sent with its
    /// hash (callers with a token only: anonymous callers cannot fill the table), and, with a
    /// trusted-documents manifest, refuses any document not in it.
    pub(crate) async fn resolve(
        &self,
        request: &mut Request,
        authenticated: bool,
    ) -> Result<(), ServerError> {
        let hash = named_hash(request)?;
        if let Some(trusted) = &self.trusted {
            let known = match &hash {
                Some(hash) => trusted.get(hash),
                None => trusted.get(&sha256(&request.query)),
            };
            return match known {
                Some(document) => {
                    if request.query.is_empty() || hash.is_some() {
                        request.query = document.clone();
                    }
                    Ok(())
                }
                None => Err(refused(
                    "this server runs only trusted documents, and this is not one of them",
                    DOCUMENT_NOT_TRUSTED,
                )),
            };
        }
        let Some(hash) = hash else {
            return Ok(());
        };
        if request.query.is_empty() {
            return match self.find(&hash).await {
                Some(document) => {
                    request.query = document.to_string();
                    Ok(())
                }
                // Apollo's link compares the message itself.
                None => Err(refused("PersistedQueryNotFound", PERSISTED_QUERY_NOT_FOUND)),
            };
        }
        if sha256(&request.query) != hash {
            return Err(refused(
                "persistedQuery.sha256Hash is not the SHA-256 of the query sent",
                BAD_USER_INPUT,
            ));
        }
        if authenticated {
            self.register(&hash, &request.query).await;
        }
        Ok(())
    }

    async fn find(&self, hash: &str) -> Option<Arc<str>> {
        if let Some(found) = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(hash)
        {
            return Some(found.clone());
        }
        let backend = self.db.get_database_backend();
        let sql = match backend {
            DatabaseBackend::Postgres => "SELECT document FROM persisted_document WHERE hash = $1",
            _ => "SELECT document FROM persisted_document WHERE hash = ?",
        };
        let row = self
            .db
            .query_one_raw(Statement::from_sql_and_values(backend, sql, [hash.into()]))
            .await
            .map_err(|error| tracing::warn!(error = %error, "documents.read_failed"))
            .ok()??;
        let document: Arc<str> = Arc::from(row.try_get::<String>("", "document").ok()?);
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .put(hash.to_owned(), document.clone());
        Some(document)
    }

    async fn register(&self, hash: &str, document: &str) {
        let cached = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .put(hash.to_owned(), Arc::from(document));
        if cached.is_some() {
            return;
        }
        let backend = self.db.get_database_backend();
        let sql = match backend {
            DatabaseBackend::Postgres => {
                "INSERT INTO persisted_document (hash, document) VALUES ($1, $2) \
                 ON CONFLICT (hash) DO NOTHING"
            }
            _ => {
                "INSERT INTO persisted_document (hash, document) VALUES (?, ?) \
                  ON CONFLICT (hash) DO NOTHING"
            }
        };
        // A document that fails to persist is still cached here; another instance asks again.
        if let Err(error) = self
            .db
            .execute_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [hash.into(), document.into()],
            ))
            .await
        {
            tracing::warn!(error = %error, "documents.write_failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_lower_case_hex_sha256() {
        assert_eq!(
            sha256("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn both_manifest_formats_are_read_and_a_wrong_id_is_refused() {
        let document = "{ viewer { subject } }";
        let hash = sha256(document);
        let codegen = serde_json::json!({ hash.clone(): document }).to_string();
        assert_eq!(read_manifest(&codegen).expect("valid")[&hash], document);
        let apollo = serde_json::json!({
            "format": "apollo-persisted-query-manifest",
            "version": 1,
            "operations": [{ "id": hash, "name": "Me", "type": "query", "body": document }]
        })
        .to_string();
        assert_eq!(read_manifest(&apollo).expect("valid").len(), 1);
        let wrong = serde_json::json!({ "00": document }).to_string();
        assert!(read_manifest(&wrong).is_err());
    }
}
