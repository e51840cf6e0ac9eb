//! Axum glue for the Notification API (`/genesys/1/notification/...`).
