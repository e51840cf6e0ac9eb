//! Builds the running application (store, registries, services, listeners) from a configuration.
