//! `openwarp cpe-dictionary PATH`: load the NVD Official CPE Dictionary (XML,
//! plain, .gz or .xz) so the inventory resolver can suggest its products.

use crate::cli::CpeDictionaryArgs;
use crate::config::Config;
use crate::failure::bad_input;
use crate::serve::open_configured;
use openwarp_advisory::cpedict;
use openwarp_feeds::decompress;

pub async fn run(config: &Config, args: &CpeDictionaryArgs) -> anyhow::Result<()> {
    let name = args.path.display().to_string();
    let raw = std::fs::read(&args.path).map_err(|e| bad_input("PATH", format!("{name}: {e}")))?;
    let bytes = decompress(&name, raw).map_err(|e| bad_input("PATH", e))?;
    if !cpedict::looks_like_dictionary(&bytes) {
        return Err(bad_input(
            "PATH",
            format!("{name}: not an NVD CPE dictionary (no <cpe-list> root)"),
        ));
    }
    let mut products = Vec::new();
    let stats = cpedict::parse(&bytes, &mut |p| products.push(p))
        .map_err(|e| bad_input("PATH", format!("{name}: {e}")))?;
    let store = open_configured(config).await?;
    let stored = store.upsert_cpe_products(&products).await?;
    let total = store.cpe_product_count().await?;
    println!(
        "{name}: stored {stored} products from {} items ({} deprecated, {} skipped as unreadable); \
         {total} dictionary products in the database",
        stats.items, stats.deprecated, stats.skipped
    );
    Ok(())
}
