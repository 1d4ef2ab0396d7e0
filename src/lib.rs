//! sageflow: analyse Amazon VPC Flow Logs to prove where Amazon SageMaker traffic goes.
//!
//! The pipeline, one module per stage; a module imports only from those before it:
//! 1. [`error`] (the error type; [`error::Reject`], a rejected record), [`suggest`]
//!    ("did you mean"), [`terminal`] (text safe for a terminal), [`scratch`] (the run's
//!    temporary folder), [`aws`] (SDK configuration, error text, "call not available"),
//!    [`store`] (local/S3 storage of exports and state files): used by all;
//! 2. [`format`] (field catalogue, record formats, the whole `flows` schema) and
//!    [`inventory`] (AWS CLI JSON or the live APIs → VPCs, ENIs, endpoints, workloads);
//! 3. [`decode`] (bytes → Arrow, no IO), [`enrich`] (the columns naming the workload and
//!    classifying the remote) and [`generate`] (synthetic flow logs for tests and
//!    benchmarks);
//! 4. [`source`] (local files, S3, CloudWatch Logs; reading one object; what runs have
//!    read);
//! 5. [`engine`] (the DataFusion `flows` table, what user SQL may do), then [`export`]
//!    (partitioned Parquet, its commit protocol);
//! 6. [`scan`] (rules, findings, suppressions, SARIF, `--state`), then [`html`] (the
//!    report page of a scan: its aggregations, charts and findings);
//! 7. [`cli`] (one file per command, output);
//!
//! then the binary, `main.rs`. The fuzz harnesses (`fuzzing`, behind the `fuzzing`
//! feature) use stages 2–4.

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
pub mod html;
pub mod inventory;
pub mod scan;
pub mod scratch;
pub mod source;
pub mod store;
pub mod suggest;
pub mod terminal;

pub use error::{Error, Result};
