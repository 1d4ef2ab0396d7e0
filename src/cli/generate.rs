//! `sageflow generate`: synthetic flow logs and inventory for benchmarks.

use super::*;

pub(super) fn generate(a: args::GenerateArgs) -> Result<u8> {
    let spec = crate::generate::Spec {
        records: a.records,
        objects: a.objects,
        v5: a.format == args::GenFormat::V5,
        enis: a.enis,
        seed: a.seed,
        start: parse_time(&a.start, Utc::now())?,
    };
    let began = Instant::now();
    let paths = crate::generate::generate(&a.out, &spec)?;
    let bytes: u64 = paths
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    eprintln!(
        "sageflow: wrote {} records in {} objects ({}) and an inventory to {} in {:.1}s",
        spec.records,
        paths.len(),
        indicatif::HumanBytes(bytes),
        a.out.display(),
        began.elapsed().as_secs_f64()
    );
    Ok(EXIT_OK)
}
