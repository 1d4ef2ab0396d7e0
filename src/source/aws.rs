//! AWS client configuration shared by the S3, CloudWatch Logs and inventory code:
//! credentials and region from aws-config's standard chain (environment, profile, SSO,
//! IMDS), overridden by `--profile`, `--region` and `--endpoint-url`.

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

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

/// Attempts per request, with exponential backoff on throttling and 5xx.
pub const MAX_ATTEMPTS: u32 = 8;

pub async fn sdk_config(opts: &AwsOptions) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS));
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
