//! AWS client configuration shared by the S3, CloudWatch Logs and inventory code:
//! credentials and region from aws-config's standard chain (environment, profile, SSO,
//! IMDS), overridden by `--profile`, `--region` and `--endpoint-url`.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

/// Command-line AWS settings.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AwsOptions {
    /// AWS profile (default: the standard chain: environment, AWS_PROFILE, SSO, instance role).
    #[arg(long, value_name = "NAME", global = true)]
    pub profile: Option<String>,

    /// AWS region of the APIs (default: from the profile or AWS_REGION).
    #[arg(long, value_name = "REGION", global = true)]
    pub region: Option<String>,

    /// Custom endpoint for every AWS API (S3 then uses path-style addressing), e.g. an emulator.
    #[arg(long, value_name = "URL", global = true)]
    pub endpoint_url: Option<String>,
}

/// Attempts per request, with exponential backoff on throttling and 5xx, unless
/// `AWS_MAX_ATTEMPTS` says otherwise.
pub const MAX_ATTEMPTS: u32 = 8;

/// The standard retry mode with [`MAX_ATTEMPTS`]. An explicit retry configuration hides
/// the SDK's own reading of `AWS_MAX_ATTEMPTS`, so it is read here to keep honouring it.
/// `SAGEFLOW_RETRY_BACKOFF_MS` (a test hook) shortens the initial back-off (1 s) so that
/// fault-injection tests retry in milliseconds.
fn retry_config() -> RetryConfig {
    let env = |k: &str| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let attempts = env("AWS_MAX_ATTEMPTS")
        .and_then(|n| u32::try_from(n).ok())
        .filter(|&n| n > 0)
        .unwrap_or(MAX_ATTEMPTS);
    let mut config = RetryConfig::standard().with_max_attempts(attempts);
    if let Some(ms) = env("SAGEFLOW_RETRY_BACKOFF_MS") {
        config = config
            .with_initial_backoff(Duration::from_millis(ms))
            .with_max_backoff(Duration::from_millis(ms.saturating_mul(8).max(1)));
    }
    config
}

pub async fn sdk_config(opts: &AwsOptions) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(retry_config());
    if let Some(p) = &opts.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = &opts.region {
        loader = loader.region(Region::new(r.clone()));
    }
    if let Some(u) = &opts.endpoint_url {
        loader = loader.endpoint_url(u);
    }
    loader.load().await
}

/// An S3 client; custom endpoints get path-style addressing (emulators and most
/// S3-compatible stores do not resolve bucket subdomains).
pub fn s3_client(sdk: &SdkConfig, opts: &AwsOptions) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(opts.endpoint_url.is_some())
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// An SDK error on one line for people: the service's error code, HTTP status, message and
/// request id, or what failed on the way there (each cause once).
///
/// Not the SDK's `DisplayErrorContext`, which appends the error's `Debug` and with it the
/// raw HTTP response: AWS answers a signature mismatch by echoing the canonical request,
/// session token included, and the signature it got. The JSON and query services put the
/// canonical string in the message after its first line, so only that line is kept.
pub fn error_text<E>(e: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let Some(service) = e.as_service_error() else {
        return causes(e);
    };
    let mut text = service.code().unwrap_or("unknown error").to_string();
    if let Some(raw) = e.raw_response() {
        text += &format!(" (HTTP {})", raw.status().as_u16());
    }
    if let Some(m) = service
        .message()
        .and_then(|m| m.lines().next())
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        text += &format!(": {m}");
    }
    if let Some(id) = service.meta().extra("aws_request_id") {
        text += &format!(" [request id {id}]");
    }
    text
}

/// An error and its causes on one line, each once (a body error alone says only
/// "streaming error").
pub fn causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let t = c.to_string();
        if !text.contains(&t) {
            text += &format!(": {t}");
        }
        cause = c.source();
    }
    text
}
