//! The embedded store's write-ahead log: numbered files `gms.{N}.log` beside the redb file, each a sequence of
//! records that set or remove entries of the store's tables.
//!
//! Record: 4-byte little-endian payload length, 4-byte little-endian CRC-32 of the payload, then the payload: one
//! entry after another, each a table byte, a 4-byte key length and the key, then a 4-byte value length and the
//! value, or `u32::MAX` for a removal. Entries hold the new state of an entry, not a change to it, so replaying a
//! record twice, or over a file that already holds it, gives the same result. A record that is cut short or fails
//! its checksum ends its file: it was never acknowledged (it is written by one `write(2)` before the ack), so the
//! replay stops there with a warning instead of failing.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::memtable::Space;
use crate::store::{Error, Result};

/// One entry of a record: the table, the key, and the new value (`None`: removed).
pub type Entry = (Space, String, Option<Bytes>);

const HEADER: usize = 8;
const REMOVED: u32 = u32::MAX;

/// The path of log file `seq` in `dir`.
pub fn path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("gms.{seq}.log"))
}

/// The log files in `dir`, by number.
pub fn list(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::Backend(format!("cannot list {}: {e}", dir.display())))?;
    let mut found = Vec::new();
    for entry in entries {
        let entry =
            entry.map_err(|e| Error::Backend(format!("cannot list {}: {e}", dir.display())))?;
        let name = entry.file_name();
        let Some(seq) = name
            .to_str()
            .and_then(|name| name.strip_prefix("gms."))
            .and_then(|rest| rest.strip_suffix(".log"))
            .and_then(|seq| seq.parse::<u64>().ok())
        else {
            continue;
        };
        found.push((seq, entry.path()));
    }
    found.sort();
    Ok(found)
}

/// Appends `entries` as one record to `out`.
pub fn encode(entries: &[Entry], out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0; HEADER]);
    for (space, key, value) in entries {
        out.push(*space as u8);
        out.extend_from_slice(&(key.len() as u32).to_le_bytes());
        out.extend_from_slice(key.as_bytes());
        match value {
            Some(value) => {
                out.extend_from_slice(&(value.len() as u32).to_le_bytes());
                out.extend_from_slice(value);
            }
            None => out.extend_from_slice(&REMOVED.to_le_bytes()),
        }
    }
    let body = start + HEADER;
    let payload_len = (out.len() - body) as u32;
    let crc = crc32fast::hash(&out[body..]);
    out[start..start + 4].copy_from_slice(&payload_len.to_le_bytes());
    out[start + 4..body].copy_from_slice(&crc.to_le_bytes());
}

/// An open log file being appended to.
#[derive(Debug)]
pub struct Log {
    /// Its number.
    pub seq: u64,
    file: File,
    len: u64,
    path: PathBuf,
}

impl Log {
    /// Creates (or truncates) log file `seq` in `dir`.
    pub fn create(dir: &Path, seq: u64) -> Result<Log> {
        let path = path(dir, seq);
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| Error::Backend(format!("cannot create {}: {e}", path.display())))?;
        Ok(Log {
            seq,
            file,
            len: 0,
            path,
        })
    }

    /// Appends one encoded record with a single `write(2)` (whole, or the file is cut back to where it was).
    /// Once this returns the record survives the death of the process; it survives power loss once
    /// [`Log::sync`] has returned too.
    pub fn append(&mut self, record: &[u8]) -> Result<()> {
        match self.file.write_all(record) {
            Ok(()) => {
                self.len += record.len() as u64;
                Ok(())
            }
            Err(error) => {
                // A partial record would end the replay of this file before any later, acknowledged one.
                self.file.set_len(self.len).map_err(|cut| {
                    Error::Backend(format!(
                        "cannot append to {} ({error}) nor cut it back ({cut})",
                        self.path.display()
                    ))
                })?;
                Err(Error::Backend(format!(
                    "cannot append to {}: {error}",
                    self.path.display()
                )))
            }
        }
    }

    /// A handle for syncing the file from another thread.
    pub fn handle(&self) -> Result<File> {
        self.file
            .try_clone()
            .map_err(|e| Error::Backend(format!("cannot share {}: {e}", self.path.display())))
    }

    /// Flushes the file to the disk (`fdatasync`).
    pub fn sync(&self) -> Result<()> {
        self.file
            .sync_data()
            .map_err(|e| Error::Backend(format!("cannot sync {}: {e}", self.path.display())))
    }
}

/// What reading a log file found.
#[derive(Debug, Default)]
pub struct Replay {
    /// The entries of every whole record, in order.
    pub entries: Vec<Entry>,
    /// How many whole records were read.
    pub records: usize,
    /// Where the file stops making sense (a cut or corrupt record), when it does before its end.
    pub torn_at: Option<u64>,
}

/// Reads every whole record of the log file at `path`.
pub fn read(path: &Path) -> Result<Replay> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::Backend(format!("cannot read {}: {e}", path.display())))?;
    let mut replay = Replay::default();
    let mut at = 0usize;
    while at < bytes.len() {
        match decode_record(&bytes[at..]) {
            Some((entries, used)) => {
                replay.entries.extend(entries);
                replay.records += 1;
                at += used;
            }
            None => {
                replay.torn_at = Some(at as u64);
                break;
            }
        }
    }
    Ok(replay)
}

fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if bytes.len() < n {
        return None;
    }
    let (head, rest) = bytes.split_at(n);
    *bytes = rest;
    Some(head)
}

fn take_u32(bytes: &mut &[u8]) -> Option<u32> {
    let mut word = [0u8; 4];
    word.copy_from_slice(take(bytes, 4)?);
    Some(u32::from_le_bytes(word))
}

/// The entries of the record at the start of `bytes` and its length, or `None` when it is cut or corrupt.
fn decode_record(mut bytes: &[u8]) -> Option<(Vec<Entry>, usize)> {
    let len = take_u32(&mut bytes)? as usize;
    let crc = take_u32(&mut bytes)?;
    let mut payload = take(&mut bytes, len)?;
    if crc32fast::hash(payload) != crc {
        return None;
    }
    let mut entries = Vec::new();
    while !payload.is_empty() {
        let space = Space::from_byte(take(&mut payload, 1)?[0])?;
        let key_len = take_u32(&mut payload)? as usize;
        let key = std::str::from_utf8(take(&mut payload, key_len)?).ok()?;
        let value = match take_u32(&mut payload)? {
            REMOVED => None,
            value_len => Some(Bytes::copy_from_slice(take(
                &mut payload,
                value_len as usize,
            )?)),
        };
        entries.push((space, key.to_string(), value));
    }
    Some((entries, HEADER + len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries() -> Vec<Entry> {
        vec![
            (Space::Kv, "a".into(), Some(Bytes::from_static(b"one"))),
            (Space::Bookings, "p\u{1f}r".into(), None),
            (
                Space::Counters,
                "c".into(),
                Some(Bytes::from_static(&[0; 8])),
            ),
        ]
    }

    #[test]
    fn records_read_back_and_a_torn_tail_ends_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = Log::create(dir.path(), 3).unwrap();
        let mut record = Vec::new();
        encode(&entries(), &mut record);
        log.append(&record).unwrap();
        log.append(&record).unwrap();
        // Half of a third record, as a write cut short would leave it.
        log.append(&record[..record.len() / 2]).unwrap();
        let replay = read(&path(dir.path(), 3)).unwrap();
        assert_eq!(replay.records, 2);
        assert_eq!(replay.entries.len(), 6);
        assert_eq!(replay.entries[..3], entries()[..]);
        assert_eq!(replay.torn_at, Some(2 * record.len() as u64));
        assert_eq!(list(dir.path()).unwrap()[0].0, 3);
    }

    #[test]
    fn a_corrupt_record_ends_the_file() {
        let mut record = Vec::new();
        encode(&entries(), &mut record);
        let last = record.len() - 1;
        record[last] ^= 1;
        assert!(decode_record(&record).is_none());
        assert!(decode_record(&[]).is_none());
        assert!(decode_record(&[255, 255, 255, 255, 0, 0, 0, 0]).is_none());
    }
}
