//! Message structure, independent of any protocol: header fields and their parsed forms, the
//! MIME part tree, and the text of parts. Ingest uses it for the stored summary (preview,
//! hasAttachment); JMAP renders it for Email/get and Email/parse. Parsing is mail-parser's;
//! `limits` bounds what one message may make it build.

pub mod date;
pub mod header;
pub mod limits;
pub mod text;
pub mod tree;
