//! The custom actions flows call, one file per namespace: [`ws`] (`<ws:response>`), [`session`] (start, fetch,
//! terminate), the contact-center modules [`queue`], [`interaction`], [`dialog`] and [`statistic`] over
//! [`ContactCenter`] (requests in flight and the events that end them: [`contact`]), and the actions of the loaded
//! DFM files ([`dfm`]).
//!
//! Module actions complete as ORS modules do: at once, with the outcome arriving later as an external event
//! (`queue.submit.done`, `<dfm>.<action>.done`, ...). A failing expression raises `error.execution` in the flow;
//! an unknown DFM action completes with `error.<dfm>.<action>`; neither affects any other session. Modules reach
//! the runtime only through [`crate::ors::exchange::Runtime`], handed to each call.
//!
//! Adding a namespace: a file with a type implementing [`call::Module`], and one line in [`Modules::new`].

pub mod call;
pub mod contact;
pub mod dfm;
pub mod dialog;
pub mod interaction;
pub mod queue;
pub mod session;
pub mod statistic;
pub mod ws;

use std::sync::Arc;

use crate::contact_center::{CcEvent, ContactCenter};
use crate::dfm::{DfmSet, Executor};
use crate::ors::exchange::{Runtime, SessionInput, completion};
use crate::scxml::datamodel::ecmascript::GlobalsHook;
use crate::scxml::host::{ActionScope, HostError, SessionInfo};
use crate::scxml::model::CustomAction;
use call::{Call, Module};
use contact::Contact;
use dfm::DfmActions;

/// The modules a flow can call.
pub struct Modules {
    /// By namespace (without its scheme or a trailing `/`).
    namespaces: Vec<(&'static str, Box<dyn Module>)>,
    dfm: DfmActions,
    contact: Arc<Contact>,
    /// (DN, src): strategies started on calls to a routing point (`ors/route_points`).
    route_points: Vec<(String, String)>,
}

impl std::fmt::Debug for Modules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Modules").finish_non_exhaustive()
    }
}

/// A namespace as the table keys it: `http://www.genesyslab.com/modules/ws/` → `www.genesyslab.com/modules/ws`.
fn local_namespace(ns: &str) -> &str {
    ns.strip_prefix("http://")
        .or_else(|| ns.strip_prefix("https://"))
        .unwrap_or(ns)
        .trim_end_matches('/')
}

impl Modules {
    /// Modules over the DFM files of `dfm` (run by `executor`) and, when given, a contact center.
    pub fn new(
        dfm: DfmSet,
        executor: Executor,
        contact_center: Option<Arc<dyn ContactCenter>>,
    ) -> Modules {
        let contact = Arc::new(Contact::new(contact_center));
        let namespaces: Vec<(&'static str, Box<dyn Module>)> = vec![
            (ws::NAMESPACE, Box::new(ws::Ws)),
            (
                session::NAMESPACE,
                Box::new(session::SessionModule {
                    client: executor.client(),
                }),
            ),
            (queue::NAMESPACE, Box::new(queue::Queue(contact.clone()))),
            (
                interaction::NAMESPACE,
                Box::new(interaction::Interaction(contact.clone())),
            ),
            (dialog::NAMESPACE, Box::new(dialog::Dialog(contact.clone()))),
            (statistic::NAMESPACE, Box::new(statistic::Statistic)),
        ];
        Modules {
            namespaces,
            dfm: DfmActions { dfm, executor },
            contact,
            route_points: Vec::new(),
        }
    }

    /// Sets the strategies started on calls to routing points: (DN, src).
    pub fn with_route_points(mut self, route_points: Vec<(String, String)>) -> Modules {
        self.route_points = route_points;
        self
    }

    /// Notified after every contact-center call, for the driver that ticks its clock.
    pub fn wake(&self) -> Arc<tokio::sync::Notify> {
        self.contact.wake()
    }

    /// Installs `_data` and `_genesys` (with `_genesys.statistic.sData` over the contact center).
    pub fn globals_hook(&self) -> GlobalsHook {
        statistic::globals_hook(self.contact.center_if_any())
    }

    /// Runs one custom action of `session`: the module of its namespace, else the DFM that declares it.
    pub fn custom_action(
        &self,
        runtime: &Arc<dyn Runtime>,
        session: &SessionInfo,
        action: &CustomAction,
        scope: &mut dyn ActionScope,
    ) -> Result<(), HostError> {
        let call = Call {
            runtime,
            session,
            action,
            scope,
        };
        let ns = local_namespace(&action.ns);
        match self.namespaces.iter().find(|(name, _)| *name == ns) {
            Some((_, module)) => module.call(call),
            None => self.dfm.call(call),
        }
    }

    /// Forgets what `session`, which has ended, asked the contact center for (see [`Contact::session_ended`]).
    pub fn session_ended(&self, session: &str) {
        self.contact.session_ended(session);
    }

    /// Turns a contact-center event into the module event of the session that waits for it; a call to a booked
    /// access number goes to the service [`DfmActions::match_interaction`] finds.
    pub async fn dispatch(&self, runtime: &Arc<dyn Runtime>, event: CcEvent) {
        let (session, name, data) = match event {
            CcEvent::InteractionAdded {
                interaction,
                ani,
                dnis,
                udata,
            } => {
                let code = udata.get("access_code").cloned();
                let session = match self.dfm.match_interaction(&dnis, &ani, code).await {
                    Some(session) => session,
                    None => match self.route_points.iter().find(|(dn, _)| *dn == dnis) {
                        // A routing point: its strategy starts and is offered the call, as in ORS.
                        Some((_, src)) => match runtime.start(src.clone(), Vec::new()).await {
                            Ok(session) => session,
                            Err(error) => {
                                tracing::warn!(%dnis, %src, %error, "the routing point's strategy did not start");
                                return;
                            }
                        },
                        None => {
                            tracing::info!(%dnis, %ani, "no service holds the dialled access number");
                            return;
                        }
                    },
                };
                let data = contact::call_added(interaction, ani, dnis, udata);
                (session, "interaction.added".to_string(), data)
            }
            other => match self.contact.completion(other) {
                Some(routed) => routed,
                None => return,
            },
        };
        runtime.deliver(&session, SessionInput::External(completion(&name, data)));
    }
}
