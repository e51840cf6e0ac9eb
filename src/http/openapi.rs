//! The OpenAPI description of the whole API (public and internal listeners), served at `/genesys/openapi.json`.
//! Other areas merge their own description with [`super::Routers::describe`].

use utoipa::OpenApi;

use super::error::ErrorBody;

/// The core routes' description.
#[derive(OpenApi)]
#[openapi(
    info(title = "GMS REST API", description = "Genesys Mobile Services 8.1 REST API: Service, Storage and Node. \
        The public listener serves the deployment guide's Allow list and answers 404 for its Block list \
        (service/match-interaction, notification/publish, node); the internal listener serves everything."),
    paths(
        super::storage::create,
        super::storage::update,
        super::storage::read_all,
        super::storage::read_key,
        super::storage::remove,
        super::service::create,
        super::service::query,
        super::service::cancel,
        super::service::request_named,
        super::service::request,
        super::node::node,
        super::node::status,
        super::node::change_status,
        super::node::metrics,
    ),
    components(schemas(ErrorBody)),
    tags((name = "storage", description = "Storage API"), (name = "service", description = "Service API"),
        (name = "node", description = "Node API and metrics (internal listener only)"))
)]
pub struct ApiDoc;

/// The description of the core routes.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
