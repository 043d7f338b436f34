//! `openwarp bench-match PATH...`: how fast the matcher is over the real
//! corpus, for realistic inventories generated from it.
//!
//! Inventories are drawn (seeded, reproducible) from the products and
//! versions the corpus itself names: NVD CPE criteria with versions taken
//! from their bounds, OSV packages with versions from their events, and CVE 5
//! vendor/product text with their versions — so items hit the index the way
//! a real estate does, including very popular products. Then:
//!
//! - **full re-match**: every item of every organisation against the whole
//!   corpus, through the key index;
//! - **one changed advisory** against all inventories;
//! - **one changed item** against the corpus.
//!
//! The matcher is the same pure code the store runs; this measures it
//! without the database (the store adds its index lookups and writes).

use crate::cli::BenchMatchArgs;
use crate::failure::BadInput;
use openwarp_advisory::Parsed;
use openwarp_advisory::applicability::Estate as Names;
use openwarp_advisory::cpe::Wfn;
use openwarp_advisory::model::{Affected, OsvEvent, SourceRecord};
use openwarp_advisory::parse::parse_any;
use openwarp_feeds::{decompress, expand_paths};
use openwarp_matching::inventory::{InventoryItem, ItemFields};
use openwarp_matching::keys::{advisory_keys, item_keys, statements_only};
use openwarp_matching::matcher::{Compiled, PreparedItem, assess_compiled};
use openwarp_matching::priority::{Signals, rank};
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// A small, seeded, reproducible generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        usize::try_from(self.next() % (n as u64)).unwrap_or(0)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// An identity an inventory item can take, seen in the corpus.
fn identities(records: &[SourceRecord], out: &mut Vec<ItemFields>) {
    for r in records {
        for a in &r.affected {
            match a {
                Affected::Nvd(config) => {
                    for m in config.nodes.iter().flat_map(|n| &n.cpe_match) {
                        if !m.vulnerable {
                            continue;
                        }
                        let Ok(w) = Wfn::parse(&m.criteria) else {
                            continue;
                        };
                        let version = w.version().unquoted().or_else(|| {
                            m.version_start_including
                                .clone()
                                .or_else(|| m.version_end_including.clone())
                                .or_else(|| m.version_end_excluding.clone())
                        });
                        let Some(version) = version else { continue };
                        out.push(ItemFields {
                            cpe: Some(m.criteria.clone()),
                            version: Some(version),
                            ..ItemFields::default()
                        });
                    }
                }
                Affected::Osv(o) => {
                    let version = o
                        .ranges
                        .iter()
                        .flat_map(|r| &r.events)
                        .find_map(|e| match e {
                            OsvEvent::Introduced(v)
                            | OsvEvent::Fixed(v)
                            | OsvEvent::LastAffected(v)
                                if v != "0" =>
                            {
                                Some(v.clone())
                            }
                            _ => None,
                        });
                    let purl = match o.ecosystem.as_str() {
                        "Go" => format!("pkg:golang/{}", o.name),
                        "Bitnami" => format!("pkg:bitnami/{}", o.name),
                        _ => continue,
                    };
                    if let Some(version) = version {
                        out.push(ItemFields {
                            purl: Some(purl),
                            version: Some(version),
                            ..ItemFields::default()
                        });
                    }
                }
                Affected::Cve5(c) => {
                    if let (Some(v), Some(p), Some(e)) = (&c.vendor, &c.product, c.versions.first())
                    {
                        out.push(ItemFields {
                            vendor: Some(v.clone()),
                            product: Some(p.clone()),
                            version: Some(e.version.clone()),
                            ..ItemFields::default()
                        });
                    }
                }
                Affected::Csaf(_) | Affected::Kev { .. } => {}
            }
        }
    }
}

struct Corpus {
    vulns: Vec<(String, Vec<SourceRecord>)>,
    index: HashMap<String, Vec<usize>>,
}

fn load(args: &BenchMatchArgs) -> anyhow::Result<(Corpus, Vec<ItemFields>, Duration)> {
    let started = Instant::now();
    let files = expand_paths(&args.paths).map_err(|e| BadInput(vec![format!("PATH: {e}")]))?;
    let mut by_vuln: HashMap<String, Vec<SourceRecord>> = HashMap::new();
    let mut pool = Vec::new();
    for file in files {
        let name = file.display().to_string();
        let raw = std::fs::read(&file)?;
        let Ok(bytes) = decompress(&name, raw) else {
            continue;
        };
        let mut records = Vec::new();
        let _ = parse_any(&bytes, &mut |p| {
            if let Parsed::Record(r) = p {
                records.push(*r);
            }
        });
        let records = statements_only(&records);
        identities(&records, &mut pool);
        for r in records {
            by_vuln.entry(r.vuln_id.clone()).or_default().push(r);
        }
    }
    let mut vulns: Vec<(String, Vec<SourceRecord>)> = by_vuln.into_iter().collect();
    vulns.sort_by(|a, b| a.0.cmp(&b.0));
    let mut index: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, (_, records)) in vulns.iter().enumerate() {
        for key in advisory_keys(records) {
            index.entry(key).or_default().push(i);
        }
    }
    Ok((Corpus { vulns, index }, pool, started.elapsed()))
}

struct Estate {
    items: Vec<InventoryItem>,
    /// Per organisation: CPE names for platform checks.
    names: HashMap<i64, Names>,
    /// key → item positions.
    index: HashMap<String, Vec<usize>>,
}

/// Products (by index key) with the versions the corpus names for them and
/// how many vulnerabilities name them.
struct Product {
    variants: Vec<ItemFields>,
    vulns: usize,
}

fn products(pool: Vec<ItemFields>, corpus: &Corpus) -> Vec<Product> {
    let mut by_key: HashMap<String, Vec<ItemFields>> = HashMap::new();
    for f in pool {
        let Ok(f) = f.validate() else { continue };
        let Some(key) = item_keys(&f).into_iter().next() else {
            continue;
        };
        let variants = by_key.entry(key).or_default();
        if variants.len() < 64 && !variants.contains(&f) {
            variants.push(f);
        }
    }
    let mut out: Vec<Product> = by_key
        .into_iter()
        .map(|(key, variants)| Product {
            vulns: corpus.index.get(&key).map_or(0, Vec::len),
            variants,
        })
        .filter(|p| p.vulns > 0)
        .collect();
    // Deterministic order whatever the hash map did.
    out.sort_by(|a, b| {
        b.vulns.cmp(&a.vulns).then_with(|| {
            a.variants
                .first()
                .map(|f| &f.name)
                .cmp(&b.variants.first().map(|f| &f.name))
        })
    });
    out
}

/// Each organisation runs `per_org` different products, drawn with
/// probability proportional to the square root of how many vulnerabilities
/// name them (popular products are common, the long tail still appears),
/// each at one of the versions the corpus names for it.
fn generate(products: &[Product], orgs: usize, per_org: usize, seed: u64) -> Estate {
    let mut rng = Rng(seed);
    let mut cumulative = Vec::with_capacity(products.len());
    let mut total = 0.0f64;
    for p in products {
        total += (p.vulns as f64).sqrt();
        cumulative.push(total);
    }
    let mut items = Vec::with_capacity(orgs * per_org);
    let mut id = 0i64;
    for org in 0..orgs {
        let org_id = i64::try_from(org).unwrap_or(0) + 1;
        let mut chosen = std::collections::HashSet::new();
        let mut tries = 0;
        while chosen.len() < per_org.min(products.len()) && tries < per_org * 50 {
            tries += 1;
            let x = (rng.next() as f64 / u64::MAX as f64) * total;
            let i = cumulative
                .partition_point(|&c| c < x)
                .min(products.len() - 1);
            if !chosen.insert(i) {
                continue;
            }
            let Some(p) = products.get(i) else { continue };
            let Some(base) = p.variants.get(rng.below(p.variants.len())) else {
                continue;
            };
            id += 1;
            items.push(InventoryItem {
                id,
                org_id,
                fields: ItemFields {
                    internet_facing: rng.chance(20),
                    business_critical: rng.chance(15),
                    ..base.clone()
                },
            });
        }
    }
    let mut wfns: HashMap<i64, Vec<Wfn>> = HashMap::new();
    let mut index: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        if let Some(w) = PreparedItem::new(item).wfn() {
            wfns.entry(item.org_id).or_default().push(w.clone());
        }
        for key in item_keys(&item.fields) {
            index.entry(key).or_default().push(i);
        }
    }
    let names = wfns.into_iter().map(|(o, w)| (o, Names::new(w))).collect();
    Estate {
        items,
        names,
        index,
    }
}

/// Assess one (advisory, item) pair and rank it, as the store does.
fn decide(advisory: &Compiled, item: &PreparedItem, names: &Names) -> bool {
    match assess_compiled(advisory, item, names) {
        Some(finding) => {
            let signals = Signals {
                internet_facing: item.item.fields.internet_facing,
                business_critical: item.item.fields.business_critical,
                ..Signals::default()
            };
            std::hint::black_box(rank(&signals, finding.verdict));
            true
        }
        None => false,
    }
}

fn candidates_of_item(c: &Corpus, item: &InventoryItem) -> BTreeSet<usize> {
    item_keys(&item.fields)
        .iter()
        .filter_map(|k| c.index.get(k))
        .flatten()
        .copied()
        .collect()
}

fn items_of_advisory(e: &Estate, records: &[SourceRecord]) -> BTreeSet<usize> {
    advisory_keys(records)
        .iter()
        .filter_map(|k| e.index.get(k))
        .flatten()
        .copied()
        .collect()
}

struct Spread {
    mean: Duration,
    p50: Duration,
    p95: Duration,
    max: Duration,
}

fn spread(mut samples: Vec<Duration>) -> Spread {
    samples.sort();
    let n = samples.len().max(1);
    let at = |q: usize| {
        samples
            .get((n * q / 100).min(n - 1))
            .copied()
            .unwrap_or_default()
    };
    let total: Duration = samples.iter().sum();
    Spread {
        mean: total / u32::try_from(n).unwrap_or(1),
        p50: at(50),
        p95: at(95),
        max: samples.last().copied().unwrap_or_default(),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// Peak resident set size of this process, from /proc (Linux).
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

pub async fn run(args: &BenchMatchArgs) -> anyhow::Result<()> {
    let (corpus, pool, load_time) = load(args)?;
    if corpus.vulns.is_empty() || pool.is_empty() {
        return Err(BadInput(vec![
            "PATH: no advisories with affected-product statements found".into(),
        ])
        .into());
    }
    println!(
        "corpus: {} vulnerabilities, {} index keys, {} product identities seen (loaded in {:.1} s)",
        corpus.vulns.len(),
        corpus.index.len(),
        pool.len(),
        load_time.as_secs_f64()
    );
    let (orgs, per_org, samples) = (
        args.orgs as usize,
        args.items as usize,
        args.samples as usize,
    );
    let products = products(pool, &corpus);
    let estate = generate(&products, orgs, per_org, args.seed);
    println!(
        "inventories: {} organisations x {} items = {} items drawn from {} products, {} item keys (seed {})",
        args.orgs,
        args.items,
        estate.items.len(),
        products.len(),
        estate.index.len(),
        args.seed
    );
    let no_names = Names::default();

    // Full re-match: advisory by advisory (each read once), every item that
    // shares a key with it, as the store's full and incremental paths do.
    let started = Instant::now();
    let prepared: Vec<PreparedItem> = estate.items.iter().map(PreparedItem::new).collect();
    let threads = args.threads.max(1) as usize;
    // Advisories dealt round-robin, so each thread gets its share of the
    // heavy years (recent Linux kernel and Chrome advisories cluster by id).
    let results: Vec<(u64, u64, Vec<usize>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| corpus.vulns.iter().skip(t).step_by(threads))
            .map(|part| {
                let (prepared, estate, no_names) = (&prepared, &estate, &no_names);
                scope.spawn(move || {
                    let (mut pairs, mut exposures, mut hit) = (0u64, 0u64, Vec::new());
                    for (_, records) in part {
                        let compiled = Compiled::new(records);
                        let items: BTreeSet<usize> = compiled
                            .keys()
                            .into_iter()
                            .filter_map(|k| estate.index.get(k))
                            .flatten()
                            .copied()
                            .collect();
                        for i in items {
                            let Some(p) = prepared.get(i) else { continue };
                            let names = estate.names.get(&p.item.org_id).unwrap_or(no_names);
                            pairs += 1;
                            if decide(&compiled, p, names) {
                                exposures += 1;
                                hit.push(i);
                            }
                        }
                    }
                    (pairs, exposures, hit)
                })
            })
            .collect();
        workers.into_iter().filter_map(|w| w.join().ok()).collect()
    });
    let mut pairs = 0u64;
    let mut exposures = 0u64;
    let mut exposed = vec![false; prepared.len()];
    for (p, e, hit) in results {
        pairs += p;
        exposures += e;
        for i in hit {
            if let Some(slot) = exposed.get_mut(i) {
                *slot = true;
            }
        }
    }
    let exposed_items = exposed.iter().filter(|&&e| e).count();
    let full = started.elapsed();
    println!(
        "full re-match ({threads} thread{}): {:.2} s for {} candidate pairs -> {} exposures on {} items ({:.1} µs per pair)",
        if threads == 1 { "" } else { "s" },
        full.as_secs_f64(),
        pairs,
        exposures,
        exposed_items,
        full.as_secs_f64() * 1e6 * threads as f64 / pairs.max(1) as f64
    );

    // One changed advisory against all inventories.
    let mut rng = Rng(args.seed ^ 0xA5A5);
    let mut adv_times = Vec::with_capacity(samples);
    let mut adv_hits = 0usize;
    for _ in 0..samples {
        let Some((_, records)) = corpus.vulns.get(rng.below(corpus.vulns.len())) else {
            continue;
        };
        let t = Instant::now();
        let compiled = Compiled::new(records);
        for i in items_of_advisory(&estate, records) {
            let Some(item) = estate.items.get(i) else {
                continue;
            };
            let p = PreparedItem::new(item);
            let names = estate.names.get(&item.org_id).unwrap_or(&no_names);
            adv_hits += usize::from(decide(&compiled, &p, names));
        }
        adv_times.push(t.elapsed());
    }
    let a = spread(adv_times);
    println!(
        "one changed advisory: mean {} p50 {} p95 {} max {} ({} samples, {} exposures found)",
        ms(a.mean),
        ms(a.p50),
        ms(a.p95),
        ms(a.max),
        args.samples,
        adv_hits
    );

    // One changed item against the corpus.
    let mut item_times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let Some(item) = estate.items.get(rng.below(estate.items.len())) else {
            continue;
        };
        let t = Instant::now();
        let p = PreparedItem::new(item);
        let names = estate.names.get(&item.org_id).unwrap_or(&no_names);
        for v in candidates_of_item(&corpus, item) {
            if let Some((_, records)) = corpus.vulns.get(v) {
                std::hint::black_box(decide(&Compiled::new(records), &p, names));
            }
        }
        item_times.push(t.elapsed());
    }
    let i = spread(item_times);
    println!(
        "one changed item: mean {} p50 {} p95 {} max {} ({} samples)",
        ms(i.mean),
        ms(i.p50),
        ms(i.p95),
        ms(i.max),
        args.samples
    );
    if let Some(mb) = peak_rss_mb() {
        println!("peak RSS (in-memory phases): {mb:.0} MB");
    }
    if let Some(url) = &args.database {
        through_store(args, url, &corpus, &products, &estate).await?;
    }
    Ok(())
}

/// Phases 1 and 2 of [`through_store`]: ingest the corpus, then every
/// organisation adds its inventory (each item matched as it is added).
async fn fill(
    args: &BenchMatchArgs,
    store: &openwarp_store::Store,
    estate: &Estate,
) -> anyhow::Result<Vec<(openwarp_core::OrgId, i64)>> {
    use anyhow::Context;
    // 1. Ingest the corpus (files the match index as it goes).
    let started = Instant::now();
    let files = expand_paths(&args.paths).map_err(|e| BadInput(vec![format!("PATH: {e}")]))?;
    let mut known = openwarp_store::KnownRecords::default();
    let mut stored = 0u64;
    for file in &files {
        let report = openwarp_feeds::ingest_path(
            store,
            file,
            &mut known,
            openwarp_feeds::IngestOptions::default(),
            &(),
        )
        .await;
        if report.storage_failed {
            anyhow::bail!("{}: {}", file.display(), report.error.unwrap_or_default());
        }
        stored += report.counts.new + report.counts.changed;
    }
    println!(
        "store: ingested {stored} records from {} files with the match index in {:.1} s",
        files.len(),
        started.elapsed().as_secs_f64()
    );

    // 2. Every organisation adds its inventory: each item is matched against
    //    the whole stored corpus as it is added.
    let started = Instant::now();
    let mut org_ids = HashMap::new();
    for org in 0..args.orgs {
        let draft = openwarp_core::membership::OrganisationInput {
            name: format!("Bench Council {org:03}"),
            council_type: "district_borough".into(),
            employers_member: true,
            renewal_date: "2027-04-01".into(),
            senior_officer_name: "Bench Officer".into(),
            senior_officer_email: format!("officer{org}@bench.example"),
            ..Default::default()
        }
        .validate()
        .map_err(|e| anyhow::anyhow!("bench organisation: {e:?}"))?;
        let created = store.create_org(&draft, openwarp_store::now()).await?;
        org_ids.insert(i64::from(org) + 1, created.id);
    }
    let mut by_org: HashMap<i64, Vec<ItemFields>> = HashMap::new();
    for item in &estate.items {
        by_org
            .entry(item.org_id)
            .or_default()
            .push(item.fields.clone());
    }
    let mut stored_ids = Vec::new();
    let mut orgs: Vec<_> = by_org.into_iter().collect();
    orgs.sort_by_key(|(o, _)| *o);
    for (bench_org, fields) in orgs {
        let Some(&org) = org_ids.get(&bench_org) else {
            continue;
        };
        let added = store
            .add_items(org, &fields, "bench", None, openwarp_store::now())
            .await
            .context("adding an inventory")?;
        stored_ids.extend(added.ids.iter().map(|&id| (org, id)));
    }
    let full = started.elapsed();
    let mut exposures = 0i64;
    for org in org_ids.values() {
        exposures += store.exposure_counts(*org).await?.iter().sum::<i64>();
    }
    println!(
        "store: added and matched {} items for {} organisations in {:.1} s ({} open exposures stored)",
        stored_ids.len(),
        args.orgs,
        full.as_secs_f64(),
        exposures
    );

    Ok(stored_ids)
}

/// The same work through a real database: what `serve` and `ingest` do.
async fn through_store(
    args: &BenchMatchArgs,
    url: &str,
    corpus: &Corpus,
    products: &[Product],
    estate: &Estate,
) -> anyhow::Result<()> {
    let store = crate::serve::open_store(url).await?;
    let existing = store.list_orgs().await?;
    let stored_ids = if existing
        .iter()
        .all(|o| o.name.starts_with("Bench Council "))
        && !existing.is_empty()
    {
        // A database this benchmark filled before: time the later phases again.
        let mut ids = Vec::new();
        for org in &existing {
            ids.extend(
                store
                    .list_items(org.id)
                    .await?
                    .iter()
                    .map(|s| (org.id, s.item.id)),
            );
        }
        println!(
            "store: reusing {} items of {} benchmark organisations in {url}",
            ids.len(),
            existing.len()
        );
        ids
    } else if !existing.is_empty() {
        return Err(BadInput(vec![format!(
            "--database: {url} already holds other organisations; give a new, empty database"
        )])
        .into());
    } else {
        fill(args, &store, estate).await?
    };
    let mut counts = openwarp_store::MatchCounts::default();

    // 3. A full re-match of everything already stored (nothing changes, so
    //    this is the cost of assessing and comparing digests).
    let started = Instant::now();
    counts += store.rematch_all(openwarp_store::now()).await?;
    println!(
        "store: full re-match of all inventories in {:.1} s ({} pairs assessed, {} rows changed)",
        started.elapsed().as_secs_f64(),
        counts.assessed,
        counts.new + counts.changed + counts.cleared
    );

    // 4. One changed advisory, end to end (index join, statements, assess, reconcile).
    let mut rng = Rng(args.seed ^ 0x5A5A);
    let samples = args.samples as usize;
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let Some((vuln, _)) = corpus.vulns.get(rng.below(corpus.vulns.len())) else {
            continue;
        };
        let t = Instant::now();
        store
            .match_advisories(std::slice::from_ref(vuln), openwarp_store::now())
            .await?;
        times.push(t.elapsed());
    }
    let a = spread(times);
    println!(
        "store: one changed advisory: mean {} p50 {} p95 {} max {}",
        ms(a.mean),
        ms(a.p50),
        ms(a.p95),
        ms(a.max)
    );

    // 5. One changed item, end to end: a new version written, re-keyed and re-matched.
    let by_key: HashMap<String, &Product> = products
        .iter()
        .filter_map(|p| {
            let key = p
                .variants
                .first()
                .and_then(|f| item_keys(f).into_iter().next())?;
            Some((key, p))
        })
        .collect();
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let Some(&(org, id)) = stored_ids.get(rng.below(stored_ids.len())) else {
            continue;
        };
        let Some(current) = store.item(org, id).await? else {
            continue;
        };
        let key = item_keys(&current.item.fields).into_iter().next();
        let variant = key
            .and_then(|k| by_key.get(&k))
            .and_then(|p| p.variants.get(rng.below(p.variants.len())))
            .cloned()
            .unwrap_or_else(|| current.item.fields.clone());
        let t = Instant::now();
        store
            .update_item(org, id, &variant, None, openwarp_store::now())
            .await?;
        times.push(t.elapsed());
    }
    let i = spread(times);
    println!(
        "store: one changed item: mean {} p50 {} p95 {} max {}",
        ms(i.mean),
        ms(i.p50),
        ms(i.p95),
        ms(i.max)
    );
    if let Some(mb) = peak_rss_mb() {
        println!("peak RSS (whole run): {mb:.0} MB");
    }
    store.close().await;
    Ok(())
}
