//! The store backends: each instantiates the shared `Store` suite ([`suite`]) and tests what is particular to it.

mod suite;

mod embedded;
