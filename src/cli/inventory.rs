//! `sageflow inventory show` and `inventory collect`.

use super::*;
use crate::store::Store;

pub(super) async fn inventory_show(
    src: &InventorySource,
    aws: &crate::aws::AwsOptions,
) -> Result<u8> {
    if src.inventory.is_empty() {
        return Err(Error::Usage(
            "inventory show needs --inventory PATH (or live)".into(),
        ));
    }
    let inv = Arc::new(load_inventory(src, aws).await?);
    let enricher = Enricher::new(inv.clone());
    let source = inv
        .ip_ranges_source
        .clone()
        .unwrap_or_else(|| "built-in snapshot".to_string());
    let text = crate::inventory::show::render(&inv, &source, &|eni| {
        enricher
            .owner(&eni.id)
            .map_or_else(|| "unknown".to_string(), |o| o.describe())
    });
    let mut out = std::io::stdout().lock();
    write!(out, "{text}").map_err(|e| Error::io("standard output", e))?;
    Ok(EXIT_OK)
}

/// Writes the live inventory as AWS-CLI-shaped JSON that `--inventory DIR` reads back.
pub(super) async fn inventory_collect(a: args::CollectArgs) -> Result<u8> {
    let sdk = crate::aws::sdk_config(&a.aws).await?;
    let since = a
        .since
        .as_deref()
        .map(|s| parse_time(s, Utc::now()))
        .transpose()?;
    let now = Utc::now();
    // LookupEvents holds 90 days.
    let oldest = now.timestamp() - 90 * 86_400;
    let trail = a
        .cloudtrail
        .then(|| (since.unwrap_or(oldest).max(oldest), now.timestamp()));
    let docs = crate::inventory::collect::collect(&sdk, a.vpc.as_deref(), since, trail).await?;
    let out = a.out.display().to_string();
    let folder = if a.dated {
        format!("{}/", now.format("%Y-%m-%dT%H%M%SZ"))
    } else {
        String::new()
    };
    let store = if out.starts_with("s3://") {
        let (bucket, prefix) = crate::source::s3::parse_url(&out)?;
        let prefix = match prefix.trim_end_matches('/') {
            "" => folder,
            p => format!("{p}/{folder}"),
        };
        Store::S3 {
            client: crate::aws::s3_client(&sdk, &a.aws),
            bucket,
            prefix,
        }
    } else {
        let dir = a.out.join(&folder);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Store::Local(dir)
    };
    for (name, doc) in &docs {
        let text = serde_json::to_string_pretty(doc).expect("json") + "\n";
        store.write(name, text.as_bytes()).await?;
    }
    eprintln!(
        "sageflow: wrote {} documents to {}",
        docs.len(),
        store.describe("")
    );
    // Current AWS address ranges next to the inventory, which reads them in place of the
    // built-in snapshot.
    let url = std::env::var("SAGEFLOW_IP_RANGES_URL").unwrap_or_else(|_| IP_RANGES_URL.into());
    let path = store.describe("ip-ranges.json");
    match crate::aws::fetch(&url).await.and_then(|bytes| {
        let ranges = IpRanges::from_json(&bytes, &url)?;
        Ok((bytes, ranges))
    }) {
        Ok((bytes, ranges)) => {
            store.write("ip-ranges.json", &bytes).await?;
            eprintln!("sageflow: wrote {path} (createDate {})", ranges.create_date);
        }
        Err(e) => tracing::warn!(
            "could not fetch {url} ({e}); without it the built-in ip-ranges snapshot is used. Where this machine cannot reach it, fetch it elsewhere: curl -o {path} {IP_RANGES_URL}"
        ),
    }
    Ok(EXIT_OK)
}

/// Where AWS publishes its address ranges.
pub(super) const IP_RANGES_URL: &str = "https://ip-ranges.amazonaws.com/ip-ranges.json";
