//! How the warnings and errors logged while a command runs are written on stderr: in the
//! same `sageflow: warning: …` form as the ones the commands print themselves, with what
//! they are about (the object, the file) after the message, instead of tracing's
//! ` WARN object=…: …`. More verbose levels (`-v`) keep tracing's own form.

use std::fmt;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::{DefaultFields, Format, Full, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent};
use tracing_subscriber::registry::LookupSpan;

/// The event format of the binary's log layer. Colours, in either form, follow the
/// layer's `with_ansi`.
pub struct Warnings {
    other: Format<Full, ()>,
}

impl Default for Warnings {
    fn default() -> Self {
        Warnings {
            other: Format::default().with_target(false).without_time(),
        }
    }
}

impl<S> FormatEvent<S, DefaultFields> for Warnings
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, DefaultFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let level = *event.metadata().level();
        // Tracing orders levels by verbosity: WARN and ERROR are the least.
        if level > Level::WARN {
            return self.other.format_event(ctx, writer, event);
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        writeln!(
            writer,
            "{}",
            line(level, &fields, writer.has_ansi_escapes())
        )
    }
}

/// One warning or error line; with `ansi`, its kind in bold yellow or red (`--color`,
/// `NO_COLOR`).
fn line(level: Level, fields: &Fields, ansi: bool) -> String {
    let (kind, colour) = if level == Level::ERROR {
        ("error", "31")
    } else {
        ("warning", "33")
    };
    let kind = if ansi {
        format!("\x1b[1;{colour}m{kind}\x1b[0m")
    } else {
        kind.to_string()
    };
    let mut out = format!("sageflow: {kind}: {}", fields.message);
    if !fields.rest.is_empty() {
        out.push_str(&format!(" ({})", fields.rest.join(", ")));
    }
    out
}

/// An event's message and its other fields as `name: value`.
#[derive(Default)]
struct Fields {
    message: String,
    rest: Vec<String>,
}

impl Fields {
    fn add(&mut self, field: &Field, value: String) {
        if field.name() == "message" {
            self.message = value;
        } else {
            self.rest.push(format!("{}: {value}", field.name()));
        }
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.add(field, value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // `%x` fields and the message arrive here, and print as their Display.
        self.add(field, format!("{value:?}"));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use tracing_subscriber::prelude::*;

    use super::*;

    #[test]
    fn warnings_read_like_the_commands_own() {
        // Written to a file the test reads back (a `Mutex` of a writer is a `MakeWriter`).
        let out = tempfile::NamedTempFile::new().unwrap();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .event_format(Warnings::default())
                .with_writer(Mutex::new(out.reopen().unwrap())),
        );
        tracing::subscriber::with_default(subscriber, || {
            let name = "logs/a.log.gz";
            tracing::warn!(object = %name, attempt = 2, "read whole again");
            tracing::error!("no fields");
            tracing::info!(object = %name, "progress");
        });
        let text = std::fs::read_to_string(out.path()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[..2],
            [
                "sageflow: warning: read whole again (object: logs/a.log.gz, attempt: 2)",
                "sageflow: error: no fields",
            ]
        );
        assert!(
            lines[2].contains("INFO") && lines[2].contains("object=logs/a.log.gz"),
            "{text}"
        );
        let fields = Fields {
            message: "m".into(),
            rest: vec![],
        };
        assert_eq!(
            line(Level::WARN, &fields, true),
            "sageflow: \x1b[1;33mwarning\x1b[0m: m"
        );
    }
}
