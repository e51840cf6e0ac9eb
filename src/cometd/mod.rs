//! The Bayeux 1.0 protocol engine behind `/genesys/cometd` (handshake, connect, subscribe, publish); no axum here.
