//! The GMS Storage API semantics: TTL'd key/value data sets over the store.
