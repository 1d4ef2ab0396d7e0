//! The `inventory` target: saved AWS CLI output and ip-ranges.json.

use std::sync::Arc;

use crate::error::Error;

/// Target `inventory`: arbitrary bytes as a saved AWS CLI output file (twice, under a
/// plain name and under a name carrying a prefix-list id) and as ip-ranges.json; what
/// loads must also make an enrichment index and a report.
pub fn inventory(data: &[u8]) {
    use crate::inventory::{Inventory, IpRanges, load, show};
    let mut inv = Inventory::default();
    for file in [
        "inventory/describe-fuzz.json",
        "inventory/get-managed-prefix-list-entries-pl-0123abcd.json",
    ] {
        match load::add_file(&mut inv, file, data) {
            Ok(()) => {}
            Err(Error::Inventory { file: f, message }) => {
                assert_eq!(f, file, "inventory error names another file");
                assert!(!message.is_empty());
            }
            Err(other) => panic!("inventory load failed with a non-inventory error: {other}"),
        }
    }
    load::finish(&mut inv);
    load::finish(&mut inv);
    for w in &inv.warnings {
        assert!(
            w.starts_with("inventory/")
                || [
                    "route table ",
                    "gateway endpoint ",
                    "endpoint ",
                    "training job ",
                    "processing job ",
                    "transform job "
                ]
                .iter()
                .any(|p| w.starts_with(p)),
            "warning names no file: {w}"
        );
    }
    let enricher = crate::enrich::Enricher::new(Arc::new(inv));
    let report = show::render(enricher.inventory(), "fuzz", &|eni| {
        enricher
            .owner(&eni.id)
            .map(|o| o.describe())
            .unwrap_or_default()
    });
    assert!(!report.is_empty());
    match IpRanges::from_json(data, "fuzz-ip-ranges.json") {
        Ok(_) => {}
        Err(Error::Inventory { file, message }) => {
            assert_eq!(file, "fuzz-ip-ranges.json");
            assert!(!message.is_empty());
        }
        Err(other) => panic!("ip-ranges failed with a non-inventory error: {other}"),
    }
}
