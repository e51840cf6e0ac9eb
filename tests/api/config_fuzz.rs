//! Randomised input for the option-file reader and the typed configuration: any text gives either a
//! configuration or positioned errors, never a panic. Seeds are fixed so a failure reproduces.

use std::path::Path;

use gms::config::{GmsConfig, RawConfig};

const PIECES: &[&str] = &[
    "[",
    "]",
    "=",
    "\n",
    "\r\n",
    " ",
    "#",
    ";",
    "_",
    "server",
    "node_id",
    "gms",
    "service.",
    "type",
    "builtin",
    "service",
    "request-access",
    "resources",
    "resources_list_name",
    "_allocation_strategy",
    "LOCAL",
    "CLUSTER",
    "_booking_expiration_time",
    "_booking_expiration_timeout",
    "_backup_resource",
    "ttl",
    "provide_code",
    "access_code_length",
    "http.client_port_range",
    "-",
    "0",
    "1",
    "99",
    "100",
    "-1",
    "65536",
    "true",
    "maybe",
    "é",
    "\u{feff}",
    "\t",
    "push",
    "chat",
    "web_port",
    "storage.max_size",
    "18446744073709551616",
];

#[test]
fn random_option_files_never_panic() {
    let rng = &mut fastrand::Rng::with_seed(0x6d5);
    let mut typed = 0;
    for _ in 0..3000 {
        let piece = |rng: &mut fastrand::Rng| PIECES[rng.usize(..PIECES.len())];
        let mut text = String::new();
        if rng.bool() {
            // Half the files start valid, so the typing stage sees more than syntax errors.
            text.push_str("[server]\nnode_id = 1\n");
        }
        for _ in 0..rng.usize(0..12) {
            let line = match rng.u8(0..10) {
                0..=1 => format!("[{}{}]", piece(rng), piece(rng)),
                2..=7 => format!(
                    "{}{} = {}{}",
                    piece(rng),
                    piece(rng),
                    piece(rng),
                    piece(rng)
                ),
                8 => format!("; {}", piece(rng)),
                _ => (0..rng.usize(0..6)).map(|_| piece(rng)).collect(),
            };
            text.push_str(&line);
            text.push('\n');
        }
        match RawConfig::parse(Path::new("fuzz.ini"), &text) {
            Ok(raw) => {
                if let Err(error) = GmsConfig::from_raw(raw) {
                    for line in error.to_string().lines() {
                        assert!(
                            line.starts_with("fuzz.ini:"),
                            "error without a position: {line}"
                        );
                    }
                } else {
                    typed += 1;
                }
            }
            Err(error) => assert!(error.to_string().starts_with("fuzz.ini:"), "{error}"),
        }
    }
    assert!(
        typed > 0,
        "no random file was valid; the generator is too weak"
    );
}

#[test]
fn random_bytes_never_decode_into_a_panic() {
    let mut rng = fastrand::Rng::with_seed(7);
    for _ in 0..5000 {
        let len = rng.usize(0..64);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
        if rng.bool() && !bytes.is_empty() {
            bytes[0] = 1;
        }
        let _ = gms::storage::DataSet::decode(bytes::Bytes::from(bytes));
    }
}
