//! The GMS Service API domain: builtin services (request-interaction, match-interaction, request-access) and ors services.
