//! Fuzz target: any bytes given to the DFM loader give a DFM or a positioned error, never a panic; whatever loads
//! also builds a request for each of its actions without panicking.
//!
//! Run with `cargo fuzz run dfm_load` from this folder (seed it with `../dfm/*.txt`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match gms::dfm::load_str(text, "fuzz.txt") {
        Ok(dfm) => {
            for action in dfm.actions.keys() {
                let _ = gms::dfm::build_request(&dfm, action, &Default::default());
            }
        }
        Err(err) => assert!(err.pos.is_some()),
    }
});
