//! Fuzzes the SCXML parser: any bytes must give a model or positioned errors, never a panic; a model
//! that parses must also start and take a few events without panicking.
#![no_main]

use gms::scxml::{self, Event, NoHost, Session, SessionOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(model) = scxml::parse_str(text) else { return };
    let options = SessionOptions {
        max_microsteps: 1_000,
        ..SessionOptions::default()
    };
    let mut session = Session::new(model, options);
    session.start(&mut NoHost);
    for name in ["a", "b", "error.x"] {
        session.feed(Event::external(name), &mut NoHost);
    }
    if let Some(due) = session.next_timer() {
        session.advance(due, &mut NoHost);
    }
});
