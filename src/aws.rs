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

/// The HTTPS client of every AWS call: hyper 1 and rustls over ring (one TLS stack; the
/// SDK's default would add aws-lc, a C library), the platform's root certificates plus
/// those of the PEM bundle `AWS_CA_BUNDLE` names (a TLS-inspecting proxy's, say), and the
/// proxy of `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY`, as the AWS CLI honours them.
pub fn http_client() -> crate::error::Result<aws_sdk_s3::config::SharedHttpClient> {
    let context = tls_context()?;
    Ok(
        aws_smithy_http_client::Builder::new().build_with_connector_fn(
            move |settings, components| {
                connector(
                    &context,
                    settings.cloned(),
                    components.and_then(|c| c.sleep_impl()),
                )
            },
        ),
    )
}

const CERT_MARKER: &str = "-----BEGIN CERTIFICATE-----";

/// The trust store: the platform's roots and `AWS_CA_BUNDLE`'s certificates.
fn tls_context() -> crate::error::Result<aws_smithy_http_client::tls::TlsContext> {
    use aws_smithy_http_client::tls;
    let mut trust = tls::TrustStore::default();
    if let Some(path) = std::env::var_os("AWS_CA_BUNDLE").filter(|p| !p.is_empty()) {
        let pem = std::fs::read(&path).map_err(|e| crate::error::Error::io(&path, e))?;
        // The TLS stack skips what it cannot parse; a bundle without one certificate
        // would then fail every request with an unhelpful "unknown issuer".
        if !pem
            .windows(CERT_MARKER.len())
            .any(|w| w == CERT_MARKER.as_bytes())
        {
            return Err(crate::error::Error::Usage(format!(
                "AWS_CA_BUNDLE={}: no PEM certificate in it (expected `{CERT_MARKER}` blocks); \
                 point it at your organisation's CA bundle, or unset it",
                std::path::Path::new(&path).display()
            )));
        }
        trust = trust.with_pem_certificate(pem);
    }
    tls::TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .map_err(|e| {
            crate::error::Error::Usage(format!(
                "AWS_CA_BUNDLE: not a usable PEM certificate bundle: {}",
                causes(&e)
            ))
        })
}

fn connector(
    context: &aws_smithy_http_client::tls::TlsContext,
    settings: Option<aws_smithy_runtime_api::client::http::HttpConnectorSettings>,
    sleep: Option<aws_sdk_s3::config::SharedAsyncSleep>,
) -> aws_smithy_http_client::Connector {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::{ConnectorBuilder, tls};
    let mut conn = ConnectorBuilder::default()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .tls_context(context.clone());
    conn.set_proxy_config(Some(ProxyConfig::from_env()));
    conn.set_connector_settings(settings);
    conn.set_sleep_impl(sleep);
    conn.build()
}

const FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// GETs `url` with the AWS calls' client (trust store and proxy included), for public
/// AWS documents such as ip-ranges.json.
pub async fn fetch(url: &str) -> crate::error::Result<Vec<u8>> {
    use aws_smithy_runtime_api::client::http::HttpConnector;
    let fail = |m: String| crate::error::Error::source(url, m);
    let request = aws_smithy_runtime_api::http::Request::get(url)
        .map_err(|e| fail(format!("not a URL: {e}")))?;
    let connector = connector(&tls_context()?, None, None);
    let get = async {
        let response = connector
            .call(request)
            .await
            .map_err(|e| fail(causes(&e)))?;
        let status = response.status().as_u16();
        let body = aws_smithy_types::byte_stream::ByteStream::new(response.into_body())
            .collect()
            .await
            .map_err(|e| fail(causes(&e)))?
            .into_bytes();
        Ok::<_, crate::error::Error>((status, body))
    };
    // A network that drops packets to the internet would otherwise hold the command for
    // the system's TCP timeout; the caller carries on without the document.
    let (status, body) = tokio::time::timeout(FETCH_TIMEOUT, get)
        .await
        .map_err(|_| fail(format!("no answer within {} s", FETCH_TIMEOUT.as_secs())))??;
    if !(200..300).contains(&status) {
        return Err(fail(format!("HTTP {status}")));
    }
    Ok(body.to_vec())
}

/// One AWS configuration for every remote source of a list, made when the first one needs
/// it (a list of local paths needs no credentials or region).
pub struct OnDemand<'a> {
    opts: &'a AwsOptions,
    sdk: tokio::sync::OnceCell<SdkConfig>,
}

impl<'a> OnDemand<'a> {
    pub fn new(opts: &'a AwsOptions) -> Self {
        OnDemand {
            opts,
            sdk: tokio::sync::OnceCell::new(),
        }
    }

    pub async fn get(&self) -> crate::error::Result<&SdkConfig> {
        self.sdk.get_or_try_init(|| sdk_config(self.opts)).await
    }
}

pub async fn sdk_config(opts: &AwsOptions) -> crate::error::Result<SdkConfig> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config())
        .http_client(http_client()?);
    if let Some(p) = &opts.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = &opts.region {
        loader = loader.region(Region::new(r.clone()));
    }
    if let Some(u) = &opts.endpoint_url {
        loader = loader.endpoint_url(u);
    }
    if let Some(p) = &opts.profile {
        check_profile(p).await?;
    }
    let sdk = loader.load().await;
    if sdk.region().is_none() {
        return Err(crate::error::Error::Usage(
            "no AWS region is configured: pass --region REGION, set AWS_REGION, or add `region = …` to the profile in ~/.aws/config".into(),
        ));
    }
    Ok(sdk)
}

/// Refuses a `--profile` that no config or credentials file defines: the SDK would fail
/// later with a credentials error that does not name it.
async fn check_profile(name: &str) -> crate::error::Result<()> {
    use aws_types::os_shim_internal::{Env, Fs};
    let set = aws_config::profile::load(&Fs::real(), &Env::real(), &Default::default(), None)
        .await
        .map_err(|e| {
            crate::error::Error::Usage(format!(
                "--profile {name}: the AWS config files cannot be read: {e}"
            ))
        })?;
    if set.get_profile(name).is_some() {
        return Ok(());
    }
    let known: Vec<&str> = set.profiles().collect();
    Err(crate::error::Error::Usage(format!(
        "--profile {name}: no such profile in the AWS config or credentials file{}; the profiles are: {}",
        crate::suggest::did_you_mean(name, known.iter().copied()),
        if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        }
    )))
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

/// Whether an error says the endpoint does not implement the call (emulators and some
/// partitions lack calls), as opposed to the call failing.
pub fn not_implemented<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    missing_call(e.code(), e.raw_response().map(|r| r.status().as_u16()))
}

/// [`not_implemented`], or denied to the caller: a call sageflow can do without, with a
/// guess, when the policy does not grant it.
pub fn unavailable<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    not_implemented(e)
        || matches!(
            e.code(),
            Some("UnauthorizedOperation" | "AccessDenied" | "AccessDeniedException")
        )
}

fn missing_call(code: Option<&str>, status: Option<u16>) -> bool {
    status == Some(501)
        || matches!(
            code,
            Some(
                "UnknownOperationException"
                    | "UnknownOperation"
                    | "InvalidAction"
                    | "NotImplemented"
                    | "NotImplementedException"
            )
        )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_missing_operations_are_not_implemented() {
        assert!(missing_call(Some("UnknownOperationException"), Some(400)));
        assert!(missing_call(Some("InvalidAction"), Some(400)));
        assert!(missing_call(None, Some(501)));
        assert!(!missing_call(Some("UnauthorizedOperation"), Some(403)));
        assert!(!missing_call(Some("AccessDeniedException"), Some(400)));
        assert!(!missing_call(None, Some(500)));
        assert!(!missing_call(None, None));
    }
}
