//! What the demo councils run, and whom they depend on: a plausible estate
//! per organisation, drawn from products that the demo advisories really
//! name (some versions affected, some already patched, some matched by
//! nothing), so "My exposure" shows real matches with reasons on first start.
//!
//! The estates and supplier relationships are invented for the demo; the
//! products, versions and advisories are real.

use anyhow::Context;
use openwarp_core::{OrgId, SupplierDraft, SupplierKind};
use openwarp_matching::inventory::ItemFields;
use openwarp_store::Store;

/// One entry of the demo catalogue.
struct Product {
    name: &'static str,
    vendor: &'static str,
    product: &'static str,
    version: &'static str,
    cpe: Option<&'static str>,
    purl: Option<&'static str>,
    internet_facing: bool,
    business_critical: bool,
    owner: &'static str,
}

const fn text(
    name: &'static str,
    vendor: &'static str,
    product: &'static str,
    version: &'static str,
    internet_facing: bool,
    business_critical: bool,
    owner: &'static str,
) -> Product {
    Product {
        name,
        vendor,
        product,
        version,
        cpe: None,
        purl: None,
        internet_facing,
        business_critical,
        owner,
    }
}

/// Every council runs these.
const COMMON: &[Product] = &[
    text(
        "File and print servers",
        "Microsoft",
        "Windows Server 2019",
        "10.0.17763.5458",
        false,
        true,
        "Infrastructure team",
    ),
    text(
        "Staff laptops",
        "Microsoft",
        "Windows 10 Version 1809",
        "10.0.17763.6414",
        false,
        false,
        "End-user computing",
    ),
    text(
        "Desktop Office",
        "Microsoft",
        "Microsoft 365 Apps for Enterprise",
        "16.0.17328",
        false,
        false,
        "End-user computing",
    ),
];

/// Each council runs a rotating selection of these.
const CATALOGUE: &[Product] = &[
    text(
        "Perimeter firewall",
        "Fortinet",
        "FortiOS",
        "7.2.4",
        true,
        true,
        "Network team",
    ),
    text(
        "Remote access VPN",
        "Palo Alto Networks",
        "PAN-OS",
        "10.2.9",
        true,
        true,
        "Network team",
    ),
    Product {
        name: "Secure file transfer (revenues)",
        vendor: "Progress",
        product: "MOVEit Transfer",
        version: "2023.0.1",
        cpe: Some("cpe:2.3:a:progress:moveit_transfer:2023.0.1:*:*:*:*:*:*:*"),
        purl: None,
        internet_facing: true,
        business_critical: true,
        owner: "Revenues and benefits",
    },
    text(
        "IT helpdesk remote support",
        "ConnectWise",
        "ScreenConnect",
        "23.9.7",
        true,
        false,
        "Service desk",
    ),
    text(
        "Core router",
        "Cisco",
        "Cisco IOS XE Software",
        "17.9.1",
        false,
        true,
        "Network team",
    ),
    text(
        "Intranet wiki",
        "Atlassian",
        "Confluence Data Center",
        "8.3.2",
        false,
        false,
        "Digital team",
    ),
    text(
        "Build server",
        "Jenkins Project",
        "Jenkins",
        "2.426.2",
        false,
        false,
        "Digital team",
    ),
    text(
        "CI server",
        "JetBrains",
        "TeamCity",
        "2023.11.3",
        false,
        false,
        "Digital team",
    ),
    text(
        "Planning portal",
        "PHP Group",
        "PHP",
        "8.1.20",
        true,
        false,
        "Digital team",
    ),
    Product {
        name: "Payroll application",
        vendor: "Apache Software Foundation",
        product: "Apache Log4j2",
        version: "2.14.1",
        cpe: None,
        purl: Some("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"),
        internet_facing: false,
        business_critical: true,
        owner: "HR systems",
    },
    text(
        "Firewall manager",
        "Fortinet",
        "FortiManager",
        "7.4.2",
        false,
        false,
        "Network team",
    ),
    text(
        "Edge firewall (patched)",
        "Palo Alto Networks",
        "PAN-OS",
        "11.1.3",
        true,
        true,
        "Network team",
    ),
    text(
        "Build server (patched)",
        "Jenkins Project",
        "Jenkins",
        "2.442",
        false,
        false,
        "Digital team",
    ),
    text(
        "Case management",
        "Civica",
        "APP",
        "7.4",
        false,
        true,
        "Regulatory services",
    ),
    text(
        "Cisco ASA firewall",
        "Cisco",
        "Cisco Adaptive Security Appliance (ASA) Software",
        "9.8.1",
        true,
        true,
        "Network team",
    ),
    text(
        "Load balancer",
        "Ivanti",
        "vTM",
        "22.2R1",
        true,
        false,
        "Network team",
    ),
    Product {
        name: "Data platform (Go service)",
        vendor: "golang",
        product: "stdlib",
        version: "1.19.0",
        cpe: None,
        purl: Some("pkg:golang/stdlib@1.19.0"),
        internet_facing: false,
        business_critical: false,
        owner: "Digital team",
    },
];

/// The items of the `index`th demo organisation: the common estate, plus
/// every catalogue entry whose position fits the organisation's pattern.
fn estate(index: usize) -> Vec<ItemFields> {
    let picked = CATALOGUE
        .iter()
        .enumerate()
        .filter(|(i, _)| !(i + index).is_multiple_of(3) || (i * 7 + index).is_multiple_of(5))
        .map(|(_, p)| p);
    COMMON
        .iter()
        .chain(picked)
        .map(|p| ItemFields {
            name: p.name.to_string(),
            vendor: Some(p.vendor.to_string()),
            product: Some(p.product.to_string()),
            version: Some(p.version.to_string()),
            cpe: p.cpe.map(str::to_string),
            purl: p.purl.map(str::to_string),
            internet_facing: p.internet_facing,
            business_critical: p.business_critical,
            owner: Some(p.owner.to_string()),
            notes: None,
        })
        .collect()
}

/// Suppliers by organisation name: the Kent shared services, a big
/// outsourcer, a common software vendor.
fn suppliers(org: &str) -> Vec<SupplierDraft> {
    let mk = |name: &str, kind, services: &str| SupplierDraft {
        name: name.to_string(),
        kind,
        services: Some(services.to_string()),
        contact: None,
        notes: None,
    };
    let mut out = vec![mk(
        "Microsoft",
        SupplierKind::Hosting,
        "Microsoft 365 and Azure tenancy",
    )];
    if matches!(
        org,
        "Maidstone Borough Council"
            | "Tunbridge Wells Borough Council"
            | "Sevenoaks District Council"
    ) {
        out.push(mk(
            "Mid Kent ICT",
            SupplierKind::SharedService,
            "Shared ICT service: network, servers and service desk",
        ));
    }
    if matches!(
        org,
        "Ashford Borough Council" | "Canterbury City Council" | "Dover District Council"
    ) {
        out.push(mk(
            "East Kent Services",
            SupplierKind::SharedService,
            "Revenues, benefits and customer services",
        ));
    }
    if org.contains("County") || org.starts_with("Kent Fire") {
        out.push(mk(
            "Agilisys",
            SupplierKind::ItProvider,
            "Outsourced IT infrastructure and support",
        ));
    }
    if org.contains("Borough") || org.contains("District") {
        out.push(mk(
            "Civica",
            SupplierKind::SoftwareVendor,
            "Revenues and benefits system",
        ));
    }
    out
}

/// Give an organisation its demo estate and suppliers, unless it already
/// has an inventory (so a restarted demo never duplicates anything).
pub async fn seed(store: &Store, org: OrgId, name: &str, index: usize) -> anyhow::Result<usize> {
    if !store
        .list_items(org)
        .await
        .with_context(|| format!("reading {name}'s inventory"))?
        .is_empty()
    {
        return Ok(0);
    }
    let items: Vec<ItemFields> = estate(index)
        .into_iter()
        .map(|f| f.validate())
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("demo estate for {name}: {e}"))?;
    let now = openwarp_store::now();
    let added = store
        .add_items(org, &items, "demo", None, now)
        .await
        .with_context(|| format!("adding {name}'s inventory"))?;
    for s in suppliers(name) {
        store
            .add_supplier(org, &s, now)
            .await
            .with_context(|| format!("adding {name}'s suppliers"))?;
    }
    Ok(added.ids.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_estate_is_valid_and_varied() {
        let sizes: Vec<usize> = (0..26).map(|i| estate(i).len()).collect();
        assert!(sizes.iter().all(|&n| (8..=20).contains(&n)), "{sizes:?}");
        assert!(sizes.windows(2).any(|w| w[0] != w[1]), "estates differ");
        for i in 0..26 {
            for item in estate(i) {
                item.clone()
                    .validate()
                    .unwrap_or_else(|e| panic!("{}: {e}", item.name));
            }
        }
        assert!(
            suppliers("Maidstone Borough Council")
                .iter()
                .any(|s| s.name == "Mid Kent ICT")
        );
    }
}
