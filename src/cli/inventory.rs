//! `sageflow inventory show` and `inventory collect`.

use super::*;

pub(super) async fn inventory_show(
    src: &InventorySource,
    aws: &crate::aws::AwsOptions,
) -> Result<u8> {
    if src.inventory.is_none() {
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
    let docs = crate::inventory::collect::collect(&sdk, a.vpc.as_deref(), since).await?;
    for (name, doc) in &docs {
        let path = a.out.join(name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let text = serde_json::to_string_pretty(doc).expect("json");
        std::fs::write(&path, text + "\n").map_err(|e| Error::io(&path, e))?;
    }
    eprintln!(
        "sageflow: wrote {} documents to {}",
        docs.len(),
        a.out.display()
    );
    // Current AWS address ranges next to the inventory, which reads them in place of the
    // built-in snapshot.
    let url = std::env::var("SAGEFLOW_IP_RANGES_URL").unwrap_or_else(|_| IP_RANGES_URL.into());
    let path = a.out.join("ip-ranges.json");
    match crate::aws::fetch(&url).await.and_then(|bytes| {
        let ranges = IpRanges::from_json(&bytes, &url)?;
        Ok((bytes, ranges))
    }) {
        Ok((bytes, ranges)) => {
            std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))?;
            eprintln!(
                "sageflow: wrote {} (createDate {})",
                path.display(),
                ranges.create_date
            );
        }
        Err(e) => tracing::warn!(
            "could not fetch {url} ({e}); without it the built-in ip-ranges snapshot is used. Where this machine cannot reach it, fetch it elsewhere: curl -o {} {IP_RANGES_URL}",
            path.display()
        ),
    }
    Ok(EXIT_OK)
}

/// Where AWS publishes its address ranges.
pub(super) const IP_RANGES_URL: &str = "https://ip-ranges.amazonaws.com/ip-ranges.json";
