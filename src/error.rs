//! The library's one error type. Every variant says what went wrong *and* where, and
//! [`Error::hint`] says what the user can do next; the binary prints both once.

use std::path::PathBuf;

use datafusion::arrow::error::ArrowError;
use datafusion::error::DataFusionError;

/// Result alias used throughout the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A source path, directory or glob that cannot be used.
    #[error("source {source_name}: {message}")]
    Source {
        source_name: String,
        message: String,
    },

    /// An IO error while reading or writing a named object.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A flow-log record that does not fit its format, raised under `--strict`.
    #[error("rejected record at {0}")]
    Rejected(Box<Reject>),

    /// A `--log-format` string or header line that cannot be used; `field` is the token at
    /// fault, when one is.
    #[error("log format: {message}")]
    Format {
        field: Option<String>,
        message: String,
    },

    /// A Parquet object that cannot be read as flow logs.
    #[error("{object}: {message}")]
    Parquet { object: String, message: String },

    /// Bad command-line input (time window, option values).
    #[error("{0}")]
    Usage(String),

    /// A file sageflow reads as its own (scan state, an export's manifest or run record, a
    /// rule file, suppressions, a run's findings spool) that cannot be used; `hint` says
    /// what to do about that kind of file.
    #[error("{file}: {message}")]
    Document {
        file: String,
        message: String,
        hint: &'static str,
    },

    /// A run whose result would mean nothing (no inventory to attribute with, no record
    /// read, every record rejected, a suppression that cannot match): refused, never
    /// reported as a clean result.
    #[error("{message}")]
    Config { message: String, hint: &'static str },

    /// A distributed run (`--workers`) whose worker failed or stopped answering: its
    /// result is incomplete, and the run ends with this error instead.
    #[error("{message}")]
    Workers { message: String },

    /// An inventory file (AWS CLI JSON output or ip-ranges.json) that cannot be read.
    #[error("{file}: {message}")]
    Inventory { file: String, message: String },

    #[error(transparent)]
    Arrow(#[from] ArrowError),

    #[error(transparent)]
    DataFusion(#[from] DataFusionError),
}

impl Error {
    pub fn config(message: impl Into<String>, hint: &'static str) -> Self {
        Error::Config {
            message: message.into(),
            hint,
        }
    }

    pub fn document(
        file: impl Into<String>,
        message: impl Into<String>,
        hint: &'static str,
    ) -> Self {
        Error::Document {
            file: file.into(),
            message: message.into(),
            hint,
        }
    }

    pub fn format(field: Option<&str>, message: impl Into<String>) -> Self {
        Error::Format {
            field: field.map(str::to_string),
            message: message.into(),
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Whether this is a write to a closed pipe (`sageflow query … | head`): the reader
    /// has what it wanted, which is not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        let pipe = |e: &std::io::Error| e.kind() == std::io::ErrorKind::BrokenPipe;
        match self {
            Error::Io { source, .. } => pipe(source),
            Error::Arrow(ArrowError::IoError(_, e)) => pipe(e),
            Error::Arrow(ArrowError::ExternalError(e)) => {
                e.downcast_ref::<std::io::Error>().is_some_and(pipe)
            }
            Error::DataFusion(DataFusionError::IoError(e)) => pipe(e),
            Error::DataFusion(DataFusionError::ArrowError(a, _)) => {
                matches!(a.as_ref(), ArrowError::IoError(_, e) if pipe(e))
            }
            // The CSV and JSON writers keep only the io::Error's message.
            Error::Arrow(ArrowError::CsvError(m) | ArrowError::JsonError(m)) => {
                m.contains("Broken pipe")
            }
            _ => false,
        }
    }

    pub fn source(source_name: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Source {
            source_name: source_name.into(),
            message: message.into(),
        }
    }

    /// What the user can try next, if there is anything useful to say.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Error::Source { source_name, .. }
                if ["s3://", "cwlogs://", "http://", "https://"]
                    .iter()
                    .any(|p| source_name.starts_with(p)) =>
            {
                Some(
                    "check the name, --region and the credentials (`aws sts get-caller-identity --profile …`); behind a proxy or TLS inspection set HTTPS_PROXY and AWS_CA_BUNDLE",
                )
            }
            Error::Workers { .. } => Some(
                "run it again once every worker is up (`sageflow worker --listen …`), or leave the failed one out of --workers",
            ),
            Error::Source { .. } => Some(
                "pass a file, a directory (read recursively) or a quoted glob such as 'logs/**/*.log.gz'",
            ),
            Error::Io { source, .. }
                if matches!(
                    source.kind(),
                    std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
                ) =>
            {
                Some(
                    "the object is damaged: its rows before the damage were read, the rest cannot be (a query or scan result holds them, but the run exits 2, --state does not record the object, and export commits nothing); replace it with an intact copy (for S3, an earlier version), leave it out of the inputs, or accept the loss of its rest with --allow-rejects (scan, export; an export that took it so refuses a copy put in its place later, short of --full)",
                )
            }
            // The CSV and JSON writers keep only the io::Error's message.
            Error::Arrow(ArrowError::CsvError(m) | ArrowError::JsonError(m))
                if m.contains("No space left on device") =>
            {
                Some(
                    "the disk is full: free space, or write elsewhere (--output; TMPDIR for spill files)",
                )
            }
            Error::Io { source, .. } => Some(match source.kind() {
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
                    "the disk is full (or over quota): free space, or write elsewhere (--output, --out; TMPDIR for a scan's temporary copy and spill files)"
                }
                std::io::ErrorKind::PermissionDenied => {
                    "permission denied: check the permissions of the path, and of its directory when a file is created there"
                }
                std::io::ErrorKind::ReadOnlyFilesystem => {
                    "the file system is read-only: write elsewhere (--output, --out; TMPDIR for temporary files)"
                }
                std::io::ErrorKind::NotFound => "check that the path exists",
                _ => "check that the path exists and is readable (writable, for an output)",
            }),
            Error::Rejected { .. } => Some(
                "drop --strict to skip malformed records (they are counted and can be saved with --rejects FILE), or pass the flow log's format with --log-format",
            ),
            Error::Format { .. } => Some(
                "give the format as AWS prints it ('${version} ${account-id} ...') or as space-separated field names; `sageflow schema` lists every known field",
            ),
            Error::Parquet { .. } => Some(
                "sageflow reads Parquet as AWS delivers it (underscore column names); check the object is a complete Parquet file",
            ),
            Error::Usage(_) => Some("see `sageflow --help`"),
            Error::Document { hint, .. } => Some(hint),
            Error::Config { hint, .. } => Some(hint),
            Error::Inventory { .. } => Some(
                "save the unmodified JSON output of the AWS CLI (aws ec2 describe-… / aws sagemaker describe-…) into the --inventory directory; `sageflow inventory show` lists what was understood",
            ),
            Error::DataFusion(e) => datafusion_hint(e),
            Error::Arrow(_) => None,
        }
    }

    /// Unwraps errors that DataFusion wrapped around ours, so the user sees our message and hint.
    pub fn from_datafusion(e: DataFusionError) -> Self {
        match e {
            DataFusionError::External(boxed) => match boxed.downcast::<Error>() {
                Ok(ours) => *ours,
                Err(other) => Error::DataFusion(DataFusionError::External(other)),
            },
            DataFusionError::Context(ctx, inner) => match Error::from_datafusion(*inner) {
                Error::DataFusion(inner) => {
                    Error::DataFusion(DataFusionError::Context(ctx, Box::new(inner)))
                }
                ours => ours,
            },
            DataFusionError::Shared(shared) => match std::sync::Arc::try_unwrap(shared) {
                Ok(inner) => Error::from_datafusion(inner),
                Err(shared) => match shared.as_ref() {
                    DataFusionError::External(boxed) => match boxed.downcast_ref::<Error>() {
                        Some(ours) => ours.duplicate(),
                        None => Error::DataFusion(DataFusionError::Shared(shared)),
                    },
                    _ => Error::DataFusion(DataFusionError::Shared(shared)),
                },
            },
            other => Error::DataFusion(other),
        }
    }
}

impl Error {
    /// A copy of an error that is shared (DataFusion hands the same error to every
    /// consumer of a stream); foreign payloads are kept as their message.
    fn duplicate(&self) -> Error {
        match self {
            Error::Source {
                source_name,
                message,
            } => Error::source(source_name.clone(), message.clone()),
            Error::Io { path, source } => Error::io(
                path.clone(),
                std::io::Error::new(source.kind(), source.to_string()),
            ),
            Error::Rejected(r) => Error::Rejected(r.clone()),
            Error::Format { field, message } => Error::Format {
                field: field.clone(),
                message: message.clone(),
            },
            Error::Parquet { object, message } => Error::Parquet {
                object: object.clone(),
                message: message.clone(),
            },
            Error::Usage(m) => Error::Usage(m.clone()),
            Error::Workers { message } => Error::Workers {
                message: message.clone(),
            },
            Error::Document {
                file,
                message,
                hint,
            } => Error::Document {
                file: file.clone(),
                message: message.clone(),
                hint,
            },
            Error::Config { message, hint } => Error::Config {
                message: message.clone(),
                hint,
            },
            Error::Inventory { file, message } => Error::Inventory {
                file: file.clone(),
                message: message.clone(),
            },
            Error::Arrow(e) => Error::DataFusion(DataFusionError::Execution(e.to_string())),
            Error::DataFusion(e) => Error::DataFusion(DataFusionError::Execution(e.to_string())),
        }
    }
}

fn datafusion_hint(e: &DataFusionError) -> Option<&'static str> {
    match e {
        DataFusionError::SQL(..) | DataFusionError::Plan(_) | DataFusionError::SchemaError(..) => {
            Some(
                "the table is `flows` and `sageflow schema` lists its columns; quote column names that are SQL words, as in \"end\"",
            )
        }
        DataFusionError::ResourcesExhausted(_) => Some(
            "the query needed more than --memory-limit even after spilling to disk; raise it (e.g. --memory-limit 2G)",
        ),
        DataFusionError::Context(_, inner) => datafusion_hint(inner),
        _ => None,
    }
}

impl From<Error> for DataFusionError {
    fn from(e: Error) -> Self {
        match e {
            Error::DataFusion(inner) => inner,
            other => DataFusionError::External(Box::new(other)),
        }
    }
}

/// One rejected record.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Reject {
    /// File or object name.
    pub object: String,
    /// 1-based physical line number (for Parquet: 1-based row number).
    pub line: u64,
    /// The field that did not fit, when one did.
    pub field: Option<String>,
    /// The offending value, when there is one.
    pub value: Option<String>,
    pub reason: String,
    /// The record text, elided when long.
    pub record: String,
}

impl std::fmt::Display for Reject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.object, self.line, self.reason)?;
        if let Some(field) = &self.field {
            write!(f, " (field `{field}`")?;
            if let Some(v) = &self.value {
                write!(f, ", value `{v}`")?;
            }
            write!(f, ")")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_hints_say_what_went_wrong() {
        let hint = |kind: std::io::ErrorKind| {
            Error::io("/x", std::io::Error::from(kind))
                .hint()
                .unwrap_or_default()
        };
        assert!(hint(std::io::ErrorKind::StorageFull).contains("disk is full"));
        assert!(hint(std::io::ErrorKind::PermissionDenied).contains("permission denied"));
        assert!(hint(std::io::ErrorKind::ReadOnlyFilesystem).contains("read-only"));
        assert_eq!(
            hint(std::io::ErrorKind::NotFound),
            "check that the path exists"
        );
    }
}
