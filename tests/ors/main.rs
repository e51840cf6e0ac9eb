//! The ORS part and what its flows call: the ORS HTTP interface, the BasicHTTP Event I/O Processor, `type=ors`
//! services, forwarding to another ORS, `idealtime`, session ends and `error.*` fields; DFM files loaded, turned into
//! requests and executed; geocoding (the embedded gazetteer, the Nominatim client, the `[geo]` section and the
//! routes); and the simulated contact center.
//!
//! [`server`] starts the server under test; [`services`] also uses the helpers of the flow tests ([`sample_flows`]).

#[path = "../support/sample_flows.rs"]
mod sample_flows;
#[path = "../support/server.rs"]
mod server;

mod basichttp;
mod composer;
mod contact_center;
mod dfm_exec;
mod dfm_load;
mod dfm_requests;
mod documents;
mod errors;
mod forward;
mod geo_config;
mod geo_gazetteer;
mod geo_nominatim;
mod geo_routes;
mod http;
mod idealtime;
mod services;
mod session_end;

use gms::dfm::AttrValues;
use serde_json::Value;

/// The attribute values of a DFM action call, written as a JSON object (used by [`dfm_exec`] and [`dfm_requests`]).
fn dfm_values(json: Value) -> AttrValues {
    json.as_object()
        .unwrap()
        .iter()
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}
