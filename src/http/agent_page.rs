//! The agent desktop stand-in at `/agent/` on the internal listener: one static page (plain HTML and a little
//! JavaScript, no build step) over the agent side of chats — the agent's chats, the transcript refreshed every
//! second, send, typing notices, leave, and the internal poke. `?agent=ID` chooses the agent.

use axum::Router;
use axum::response::Html;
use axum::routing::get;

/// The page.
const PAGE: &str = include_str!("pages/agent.html");

/// `/agent/` (and `/agent`), for the internal listener.
pub fn routes() -> Router {
    Router::new()
        .route("/agent/", get(page))
        .route("/agent", get(page_bare))
}

/// The description of the page's routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(page, page_bare), tags((name = "chat", description = "Agent desktop page (internal listener)")))]
pub struct AgentPageDoc;

/// The description of the page's routes.
pub fn describe() -> utoipa::openapi::OpenApi {
    <AgentPageDoc as utoipa::OpenApi>::openapi()
}

/// The agent desktop page (`?agent=ID`).
#[utoipa::path(get, path = "/agent/", tag = "chat",
    responses((status = 200, description = "The page", content_type = "text/html", body = String)))]
async fn page() -> Html<&'static str> {
    Html(PAGE)
}

/// The same page without the trailing slash.
#[utoipa::path(get, path = "/agent", tag = "chat",
    responses((status = 200, description = "The page", content_type = "text/html", body = String)))]
async fn page_bare() -> Html<&'static str> {
    Html(PAGE)
}
