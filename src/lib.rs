//! sageflow: analyse Amazon VPC Flow Logs to prove where Amazon SageMaker traffic goes.
//!
//! The pipeline, one module per stage; a module imports only from those before it:
//! 1. [`error`], [`aws`] (SDK configuration), [`store`] (local/S3 storage of exports and
//!    state files), [`suggest`] ("did you mean"), [`terminal`], [`scratch`]: used by all;
//! 2. [`format`] (field catalogue, record formats, the `flows` schema) and [`inventory`]
//!    (AWS CLI JSON → what owns each ENI and address);
//! 3. [`decode`] (bytes → Arrow, no IO) and [`enrich`] (the columns naming the workload
//!    and classifying the remote);
//! 4. [`source`] (local files, S3, CloudWatch Logs; what runs have read);
//! 5. [`engine`] (the DataFusion `flows` table, what user SQL may do);
//! 6. [`scan`] (rules, findings, SARIF, `--state`) and [`export`] (partitioned Parquet);
//! 7. [`cli`] (commands, output).

pub mod aws;
pub mod cli;
pub mod decode;
pub mod engine;
pub mod enrich;
pub mod error;
pub mod export;
pub mod format;
#[doc(hidden)]
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod generate;
pub mod inventory;
pub mod scan;
pub mod scratch;
pub mod source;
pub mod store;
pub mod suggest;
pub mod terminal;

pub use error::{Error, Result};
