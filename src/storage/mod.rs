//! The GMS Storage API semantics: TTL'd key/value data sets over the store.
//!
//! A data set is the set of fields one `POST /genesys/1/storage/{ttl}` sent, kept under `storage:{id}` as one
//! store value (so the whole set shares one TTL and an update replaces it atomically). Each field keeps its bytes,
//! and for multipart files its content type and file name, so a binary value is returned as it was sent.
//! The encoding is a small length-prefixed binary format ([`DataSet::encode`]) rather than JSON so binary
//! values need no base64 and a read costs one decode.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::store::{self, Store};

/// The TTL used when a request gives none or an invalid one (seconds).
pub const DEFAULT_TTL_SECS: u64 = 30;
/// The longest TTL accepted (one year); longer ones are cut to it.
pub const MAX_TTL_SECS: u64 = 365 * 24 * 3600;
/// The longest key accepted, in bytes.
pub const MAX_KEY_LEN: usize = 256;

/// One stored field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    /// The bytes as sent.
    pub bytes: Bytes,
    /// The content type of a multipart file part (`None` for plain form fields).
    pub content_type: Option<String>,
    /// The file name of a multipart file part.
    pub file_name: Option<String>,
}

impl Value {
    /// A plain text field.
    pub fn text(text: &str) -> Value {
        Value {
            bytes: Bytes::copy_from_slice(text.as_bytes()),
            content_type: None,
            file_name: None,
        }
    }

    /// The value as text when it is a plain (non-file) UTF-8 field.
    pub fn as_text(&self) -> Option<&str> {
        if self.file_name.is_some() {
            return None;
        }
        match &self.content_type {
            Some(ct) if !ct.starts_with("text/") => None,
            _ => std::str::from_utf8(&self.bytes).ok(),
        }
    }
}

/// The fields of one data set, by key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataSet {
    /// Fields by key.
    pub entries: BTreeMap<String, Value>,
}

/// Storage API errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No live data set has this id.
    #[error("no data set with id `{0}` (it never existed or has expired)")]
    NotFound(String),
    /// The data set has no such key.
    #[error("data set `{id}` has no key `{key}`")]
    KeyNotFound {
        /// The data set.
        id: String,
        /// The key.
        key: String,
    },
    /// A key is empty, too long or has a control character.
    #[error("invalid key `{0}`: keys are 1 to 256 printable characters")]
    InvalidKey(String),
    /// Too many keys for one data set.
    #[error("a data set may hold at most {max} keys, this one would hold {count}")]
    TooManyKeys {
        /// The limit.
        max: usize,
        /// What the request would make.
        count: usize,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// Storage API result.
pub type Result<T> = std::result::Result<T, Error>;

/// Reads a TTL path segment: whole seconds greater than 0; anything else gives the default of 30 seconds.
pub fn parse_ttl(text: &str) -> Duration {
    match text.parse::<u64>() {
        Ok(secs) if secs > 0 => Duration::from_secs(secs.min(MAX_TTL_SECS)),
        _ => Duration::from_secs(DEFAULT_TTL_SECS),
    }
}

fn check_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > MAX_KEY_LEN || key.chars().any(char::is_control) {
        return Err(Error::InvalidKey(key.chars().take(64).collect()));
    }
    Ok(())
}

fn store_key(id: &str) -> String {
    format!("storage:{id}")
}

/// Creates, reads, updates and deletes data sets.
#[derive(Debug, Clone)]
pub struct Storage {
    store: Arc<dyn Store>,
}

impl Storage {
    /// Storage over `store`.
    pub fn new(store: Arc<dyn Store>) -> Storage {
        Storage { store }
    }

    /// Stores a new data set and returns its id.
    pub async fn create(&self, data: DataSet, ttl: Duration, max_keys: usize) -> Result<String> {
        for key in data.entries.keys() {
            check_key(key)?;
        }
        if data.entries.len() > max_keys {
            return Err(Error::TooManyKeys {
                max: max_keys,
                count: data.entries.len(),
            });
        }
        let id = new_id();
        self.store
            .set(&store_key(&id), data.encode(), Some(ttl))
            .await?;
        Ok(id)
    }

    /// Adds or replaces fields of a live data set and restarts its TTL.
    pub async fn update(
        &self,
        id: &str,
        data: DataSet,
        ttl: Duration,
        max_keys: usize,
    ) -> Result<()> {
        for key in data.entries.keys() {
            check_key(key)?;
        }
        let mut current = self.read(id).await?;
        current.entries.extend(data.entries);
        if current.entries.len() > max_keys {
            return Err(Error::TooManyKeys {
                max: max_keys,
                count: current.entries.len(),
            });
        }
        self.store
            .set(&store_key(id), current.encode(), Some(ttl))
            .await?;
        Ok(())
    }

    /// The whole data set.
    pub async fn read(&self, id: &str) -> Result<DataSet> {
        let bytes = self
            .store
            .get(&store_key(id))
            .await?
            .ok_or_else(|| Error::NotFound(id.to_string()))?;
        Ok(DataSet::decode(bytes)?)
    }

    /// One field of a data set.
    pub async fn read_key(&self, id: &str, key: &str) -> Result<Value> {
        let mut data = self.read(id).await?;
        data.entries.remove(key).ok_or_else(|| Error::KeyNotFound {
            id: id.to_string(),
            key: key.to_string(),
        })
    }

    /// Deletes a data set.
    pub async fn delete(&self, id: &str) -> Result<()> {
        if self.store.delete(&store_key(id)).await? {
            Ok(())
        } else {
            Err(Error::NotFound(id.to_string()))
        }
    }
}

/// A new random id: 32 lowercase hex digits (128 bits), unguessable enough to act as a capability.
pub fn new_id() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

const FORMAT_VERSION: u8 = 1;

impl DataSet {
    /// Encodes as: version byte, u32 count, then per field four u32-length-prefixed strings
    /// (key, content type, file name, bytes); an absent content type or file name has length `u32::MAX`.
    pub fn encode(&self) -> Bytes {
        let mut out = BytesMut::new();
        out.put_u8(FORMAT_VERSION);
        out.put_u32(self.entries.len() as u32);
        let put = |out: &mut BytesMut, bytes: Option<&[u8]>| match bytes {
            Some(bytes) => {
                out.put_u32(bytes.len() as u32);
                out.put_slice(bytes);
            }
            None => out.put_u32(u32::MAX),
        };
        for (key, value) in &self.entries {
            put(&mut out, Some(key.as_bytes()));
            put(&mut out, value.content_type.as_deref().map(str::as_bytes));
            put(&mut out, value.file_name.as_deref().map(str::as_bytes));
            put(&mut out, Some(&value.bytes));
        }
        out.freeze()
    }

    /// Decodes what [`DataSet::encode`] wrote.
    pub fn decode(mut bytes: Bytes) -> store::Result<DataSet> {
        let corrupt = || {
            store::Error::Corrupt("storage data set is truncated or of an unknown version".into())
        };
        if bytes.remaining() < 5 || bytes.get_u8() != FORMAT_VERSION {
            return Err(corrupt());
        }
        let count = bytes.get_u32();
        let take = |bytes: &mut Bytes| -> store::Result<Option<Bytes>> {
            if bytes.remaining() < 4 {
                return Err(corrupt());
            }
            let len = bytes.get_u32();
            if len == u32::MAX {
                return Ok(None);
            }
            let len = len as usize;
            if bytes.remaining() < len {
                return Err(corrupt());
            }
            Ok(Some(bytes.split_to(len)))
        };
        let text = |part: Option<Bytes>| -> store::Result<Option<String>> {
            part.map(|b| String::from_utf8(b.to_vec()).map_err(|_| corrupt()))
                .transpose()
        };
        let mut entries = BTreeMap::new();
        for _ in 0..count {
            let key = text(take(&mut bytes)?)?.ok_or_else(corrupt)?;
            let content_type = text(take(&mut bytes)?)?;
            let file_name = text(take(&mut bytes)?)?;
            let value = take(&mut bytes)?.ok_or_else(corrupt)?;
            entries.insert(
                key,
                Value {
                    bytes: value,
                    content_type,
                    file_name,
                },
            );
        }
        Ok(DataSet { entries })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_sets_round_trip() {
        let mut data = DataSet::default();
        data.entries.insert("a".into(), Value::text("hello"));
        data.entries.insert(
            "img".into(),
            Value {
                bytes: Bytes::from_static(&[0, 159, 146, 150]),
                content_type: Some("image/png".into()),
                file_name: Some("x.png".into()),
            },
        );
        assert_eq!(DataSet::decode(data.encode()).unwrap(), data);
        assert!(DataSet::decode(Bytes::from_static(&[1, 0, 0, 0, 1, 0])).is_err());
    }

    #[test]
    fn ttl_falls_back_to_thirty_seconds() {
        assert_eq!(parse_ttl("10").as_secs(), 10);
        assert_eq!(parse_ttl("0").as_secs(), 30);
        assert_eq!(parse_ttl("-4").as_secs(), 30);
        assert_eq!(parse_ttl("soon").as_secs(), 30);
    }
}
