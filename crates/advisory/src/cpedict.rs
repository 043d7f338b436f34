//! The NVD Official CPE Dictionary (CPE 2.3 XML, `cpe-list` root): the
//! vendor:product names NVD knows, with a human title, so the inventory
//! resolver can suggest names no advisory in the corpus mentions yet.
//!
//! The dictionary lists one `cpe-item` per version; this parser reads it as a
//! stream and hands back each distinct `(vendor, product)` once, with the
//! title of its first item (the `en-US` title where there is one, the
//! item's version stripped). Deprecated items are skipped; an item whose
//! CPE 2.3 name cannot be read is skipped and counted. Only a file that is not
//! XML, not a CPE dictionary or cut short is an error.

use crate::cpe::Wfn;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use std::collections::HashSet;

/// One product named by the dictionary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DictionaryProduct {
    /// `a` (application), `o` (operating system) or `h` (hardware).
    pub part: char,
    /// Vendor without CPE quoting, as `Wfn::vendor_product_key` gives it.
    pub vendor: String,
    /// Product without CPE quoting.
    pub product: String,
    /// The title of the product's first item, trailing version removed.
    pub title: String,
}

/// What a parse saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DictionaryStats {
    /// `cpe-item` elements read.
    pub items: u64,
    /// Items marked `deprecated="true"`, skipped.
    pub deprecated: u64,
    /// Items skipped because their CPE 2.3 name was missing or unreadable.
    pub skipped: u64,
    /// Distinct products handed to the sink.
    pub products: u64,
}

/// Why a file could not be read as a CPE dictionary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DictionaryError {
    #[error("not a CPE dictionary: the document's root element is not cpe-list")]
    NotDictionary,
    #[error("the CPE dictionary is not well-formed XML at byte {position}: {message}")]
    Xml { position: u64, message: String },
    #[error("the CPE dictionary ends before its closing </cpe-list>")]
    Truncated,
}

/// Whether `bytes` looks like a CPE dictionary: a `<cpe-list` element in the
/// first few kilobytes.
pub fn looks_like_dictionary(bytes: &[u8]) -> bool {
    const NEEDLE: &[u8] = b"<cpe-list";
    let head = bytes.get(..4096).unwrap_or(bytes);
    head.windows(NEEDLE.len()).any(|w| w == NEEDLE)
}

#[derive(Default)]
struct Item {
    deprecated: bool,
    title_en: Option<String>,
    title_any: Option<String>,
    name23: Option<String>,
}

struct Title {
    english: bool,
    text: String,
}

/// Read a dictionary, handing each distinct product to `sink` once.
pub fn parse(
    bytes: &[u8],
    sink: &mut dyn FnMut(DictionaryProduct),
) -> Result<DictionaryStats, DictionaryError> {
    let mut reader = Reader::from_reader(bytes);
    let mut stats = DictionaryStats::default();
    let mut seen: HashSet<(String, String)> = HashSet::new();
    let mut rooted = false;
    let mut item: Option<Item> = None;
    let mut title: Option<Title> = None;
    loop {
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) if rooted => {
                return Err(DictionaryError::Xml {
                    position: reader.error_position(),
                    message: e.to_string(),
                });
            }
            Err(_) => return Err(DictionaryError::NotDictionary),
        };
        match event {
            Event::Start(e) | Event::Empty(e) if !rooted => {
                if local(&e) != "cpe-list" {
                    return Err(DictionaryError::NotDictionary);
                }
                rooted = true;
            }
            Event::Start(e) => match local(&e).as_str() {
                "cpe-item" => {
                    item = Some(Item {
                        deprecated: attr(&e, "deprecated").is_some_and(|v| v == "true"),
                        ..Item::default()
                    });
                }
                "title" if item.is_some() => {
                    title = Some(Title {
                        english: attr(&e, "xml:lang").is_some_and(|l| l.starts_with("en")),
                        text: String::new(),
                    });
                }
                "cpe23-item" => set_name23(&mut item, &e),
                _ => {}
            },
            Event::Empty(e) if local(&e) == "cpe23-item" => set_name23(&mut item, &e),
            Event::Text(t) => {
                if let Some(t2) = title.as_mut() {
                    t2.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(t2) = title.as_mut() {
                    t2.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(t2) = title.as_mut() {
                    let name = r.xml10_content();
                    if let Ok(Some(c)) = r.resolve_char_ref() {
                        t2.text.push(c);
                    } else if let Some(s) = quick_xml::escape::resolve_predefined_entity(&name) {
                        t2.text.push_str(s);
                    }
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                "title" => {
                    if let (Some(t), Some(it)) = (title.take(), item.as_mut()) {
                        let text = t.text.trim().to_string();
                        if t.english && it.title_en.is_none() {
                            it.title_en = Some(text.clone());
                        }
                        if it.title_any.is_none() {
                            it.title_any = Some(text);
                        }
                    }
                }
                "cpe-item" => {
                    if let Some(it) = item.take() {
                        finish(it, &mut stats, &mut seen, sink);
                    }
                }
                "cpe-list" => return Ok(stats),
                _ => {}
            },
            Event::Eof if rooted => return Err(DictionaryError::Truncated),
            Event::Eof => return Err(DictionaryError::NotDictionary),
            _ => {}
        }
    }
}

fn local(e: &BytesStart<'_>) -> String {
    e.local_name().as_ref().to_string()
}

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    let a = e.try_get_attribute(name).ok().flatten()?;
    a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
        .ok()
        .map(|v| v.into_owned())
}

fn set_name23(item: &mut Option<Item>, e: &BytesStart<'_>) {
    if let Some(it) = item.as_mut() {
        it.name23 = attr(e, "name");
    }
}

fn finish(
    it: Item,
    stats: &mut DictionaryStats,
    seen: &mut HashSet<(String, String)>,
    sink: &mut dyn FnMut(DictionaryProduct),
) {
    stats.items += 1;
    if it.deprecated {
        stats.deprecated += 1;
        return;
    }
    let Some(wfn) = it.name23.as_deref().and_then(|n| Wfn::parse(n).ok()) else {
        stats.skipped += 1;
        return;
    };
    let part = wfn
        .part()
        .unquoted()
        .and_then(|p| p.chars().next())
        .filter(|c| matches!(c, 'a' | 'o' | 'h'));
    let (Some(part), Some((vendor, product))) = (part, wfn.vendor_product_key()) else {
        stats.skipped += 1;
        return;
    };
    if !seen.insert((vendor.clone(), product.clone())) {
        return;
    }
    let raw = it.title_en.or(it.title_any).unwrap_or_default();
    let title = match wfn.version().unquoted() {
        Some(v) => strip_version(&raw, &v),
        None => raw.clone(),
    };
    let title = if title.is_empty() {
        format!("{vendor} {product}")
    } else {
        title
    };
    stats.products += 1;
    sink(DictionaryProduct {
        part,
        vendor,
        product,
        title,
    });
}

/// The title up to the first word that is the version (`Microsoft Exchange
/// Server 2000 Service Pack 1` with version `2000` → `Microsoft Exchange
/// Server`); the whole title when the version is not a word of it.
fn strip_version(title: &str, version: &str) -> String {
    let mut at = 0;
    for word in title.split(' ') {
        if at > 0 && word.eq_ignore_ascii_case(version) {
            return title.get(..at).unwrap_or(title).trim_end().to_string();
        }
        at += word.len() + 1;
    }
    title.to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    const EXCERPT: &str = include_str!("../tests/fixtures/cpe/official_cpe_dictionary_excerpt.xml");

    fn run(
        bytes: &[u8],
    ) -> (
        Result<DictionaryStats, DictionaryError>,
        Vec<DictionaryProduct>,
    ) {
        let mut out = Vec::new();
        let r = parse(bytes, &mut |p| out.push(p));
        (r, out)
    }

    #[test]
    fn cpedict_excerpt_gives_distinct_products_with_titles() {
        assert!(looks_like_dictionary(EXCERPT.as_bytes()));
        let (stats, products) = run(EXCERPT.as_bytes());
        let stats = stats.unwrap();
        assert_eq!(stats.items, 12);
        assert_eq!(stats.deprecated, 1);
        assert_eq!(stats.skipped, 0);
        assert_eq!(stats.products, 6);
        let names: Vec<(char, &str, &str, &str)> = products
            .iter()
            .map(|p| {
                (
                    p.part,
                    p.vendor.as_str(),
                    p.product.as_str(),
                    p.title.as_str(),
                )
            })
            .collect();
        assert_eq!(
            names,
            vec![
                (
                    'a',
                    "$0.99_kindle_books_project",
                    "$0.99_kindle_books",
                    "$0.99 Kindle Books project $0.99 Kindle Books (aka com.kindle.books.for99) for android 6.0"
                ),
                ('a', "1024cms", "1024_cms", "1024cms.org 1024 CMS"),
                ('a', "3com", "3c16115-us", "3Com WebCache 1000"),
                // The Japanese title comes first; the English one is preferred.
                ('a', "3com", "3c16116-us", "3Com WebCache 3000"),
                ('h', "3com", "3c16450-us", "3Com PS Hub 50"),
                (
                    'a',
                    "microsoft",
                    "exchange_server",
                    "Microsoft exchange_srv"
                ),
            ]
        );
    }

    #[test]
    fn cpedict_deprecated_items_are_skipped() {
        let (_, products) = run(EXCERPT.as_bytes());
        assert!(!products.iter().any(|p| p.product == "tippingpoint_ips_tos"));
    }

    #[test]
    fn cpedict_bad_item_is_skipped_and_counted() {
        let doc = EXCERPT.replacen(
            "cpe:2.3:a:1024cms:1024_cms:0.7:*:*:*:*:*:*:*",
            "cpe:2.3:q:broken",
            1,
        );
        let (stats, products) = run(doc.as_bytes());
        let stats = stats.unwrap();
        assert_eq!(stats.skipped, 1);
        // The next 1024 CMS item still names the product.
        assert!(products.iter().any(|p| p.product == "1024_cms"));
    }

    #[test]
    fn cpedict_rejects_other_documents() {
        assert_eq!(run(b"").0, Err(DictionaryError::NotDictionary));
        assert_eq!(
            run(b"{\"CVE_Items\": []}").0,
            Err(DictionaryError::NotDictionary)
        );
        assert_eq!(
            run(b"<?xml version='1.0'?><rss><channel/></rss>").0,
            Err(DictionaryError::NotDictionary)
        );
        assert!(!looks_like_dictionary(b"<rss>"));
        let cut = EXCERPT
            .get(..EXCERPT.rfind("  <cpe-item").unwrap())
            .unwrap();
        assert_eq!(run(cut.as_bytes()).0, Err(DictionaryError::Truncated));
    }

    #[test]
    fn cpedict_never_panics_on_truncations_or_noise() {
        let bytes = EXCERPT.as_bytes();
        let close = EXCERPT.rfind("</cpe-list>").unwrap() + "</cpe-list>".len();
        for end in 0..bytes.len() {
            let (r, _) = run(&bytes[..end]);
            assert_eq!(r.is_ok(), end >= close, "prefix of {end} bytes");
        }
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for round in 0..200 {
            let mut noise = Vec::with_capacity(512);
            for _ in 0..512 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                noise.push((state & 0xff) as u8);
            }
            let _ = run(&noise);
            // Noise spliced into a real dictionary.
            let mut spliced = bytes.to_vec();
            let at = (round * 23) % spliced.len();
            spliced.splice(at..at, noise.iter().copied().take(round % 40));
            let _ = run(&spliced);
        }
    }

    #[test]
    fn cpedict_strip_version_cases() {
        assert_eq!(
            strip_version("Microsoft Exchange Server 2000 Service Pack 1", "2000"),
            "Microsoft Exchange Server"
        );
        assert_eq!(strip_version("11in1 1.2.1 stable", "1.2.1"), "11in1");
        assert_eq!(strip_version("Foo Bar", "2.0"), "Foo Bar");
        assert_eq!(strip_version("2.0", "2.0"), "2.0");
    }
}
