//! DFM definition files (ORS custom action elements) turned into custom actions that flows can call.
//!
//! A DFM (Distributed Functional Module) file declares, in XML, actions that flows call as elements of the DFM's
//! namespace, and the HTTP request each action makes. `gms` reads the same files a real ORS loads
//! (`dfm/README.md` describes the format) and ships its own four (`dfm/cfg_GSG_*.txt`).
//!
//! # Layout
//! - [`xml`]: XML text → positioned elements (quick-xml).
//! - [`load`]: positioned elements → the checked [`Dfm`] model ([`model`]); errors are `file:line:column: sentence`.
//! - [`template`]: the `${attr}` templates of URLs and bodies.
//! - [`request`]: an action plus attribute values → a [`DfmRequest`].
//! - [`exec`]: [`Executor`] sends the request (reqwest, or [`InProcess`] when the server is this node) and maps the
//!   answer to a [`Completion`] event through the protocol's `<globalevents>`.
//! - [`set`]: [`DfmSet`], the loaded DFMs by namespace.
//!
//! # Using it from the ORS layer
//! ```no_run
//! # async fn demo() -> Result<(), gms::dfm::LoadError> {
//! use gms::dfm::{AttrValues, DfmSet, Executor};
//! let set = DfmSet::load_files(&["dfm/cfg_GSG_storage.txt"])?;
//! let dfm = set.by_namespace("http://www.genesyslab.com/modules/dfm/gsgStorage/v1").unwrap();
//! let mut values = AttrValues::new();
//! values.insert("id".into(), "abc".into());
//! let completion = Executor::new().execute(dfm, "read", &values).await;
//! // completion.event is "gsgStorage.read.done" or "error.gsgStorage.read"; completion.data is the JSON body.
//! # Ok(()) }
//! ```

pub mod exec;
pub mod load;
pub mod model;
pub mod request;
pub mod set;
pub mod template;
pub mod xml;

pub use exec::{BoxFuture, Completion, DfmResponse, Executor, InProcess, NoAnswer, event_name};
pub use load::{LoadError, load_file, load_str};
pub use model::Dfm;
pub use request::{AttrValues, CallError, DfmRequest, build_request};
pub use set::DfmSet;
