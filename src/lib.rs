//! `ofsted-themes`: turn Ofsted inspection reports about English local authorities'
//! children's services into evidence: which themes inspectors raise, as strengths or
//! concerns, in which authority and year, with the sentences to prove it.
//!
//! Stages, each a module with typed input and output, data flowing one way:
//! [`ingest`] (with [`pdf`]) -> [`normalise`] -> [`metadata`] -> [`segment`] -> [`analyse`] + [`tag`] ->
//! [`stance`] -> [`aggregate`] -> [`report`] (CSV, Parquet, [`charts`], [`summary`]).
//! [`pipeline`] runs them; [`evaluate`] measures agreement with hand coding. [`bytes`] and
//! [`phrase`] are shared by several stages.

pub mod aggregate;
pub mod analyse;
pub mod bench;
pub mod bytes;
pub mod charts;
pub mod codebook;
pub mod config;
pub mod evaluate;
pub mod evaluate_run;
pub mod ingest;
pub mod metadata;
pub mod model;
pub mod normalise;
pub mod output;
pub mod pdf;
pub mod phrase;
pub mod pipeline;
pub mod reference;
pub mod report;
pub mod segment;
pub mod stance;
pub mod summary;
pub mod tag;
