//! sageflow: analyse Amazon VPC Flow Logs to prove where Amazon SageMaker traffic goes.
//!
//! The pipeline, one module per stage:
//! [`format`] (field catalogue, record formats) → [`decode`] (bytes → Arrow, no IO) →
//! [`source`] (local files; key layouts and time pruning) → [`engine`] (the DataFusion
//! `flows` table) → [`cli`] (commands, output).

pub mod cli;
pub mod decode;
pub mod engine;
pub mod enrich;
pub mod error;
pub mod export;
pub mod format;
#[doc(hidden)]
pub mod fuzzing;
pub mod generate;
pub mod inventory;
pub mod scan;
pub mod scratch;
pub mod source;
pub mod terminal;

pub use error::{Error, Result};
