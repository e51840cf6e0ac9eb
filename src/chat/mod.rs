//! Chat sessions, participants and transcripts behind the GMS Chat API (not built yet).
