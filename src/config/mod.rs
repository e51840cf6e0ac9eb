//! GMS option sections (`gms`, `push`, `resources`, `server`, `chat`, `service.NAME`, resource lists): read, typed, reloaded.
