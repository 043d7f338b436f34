//! Package URLs (purl): parsing and canonical form come from the
//! `packageurl` crate; what is ours is the *package key* that lets an
//! inventory item given as a purl meet an OSV entry (ecosystem + name), a CVE
//! 5 entry (collection URL + package name) or a CSAF product's purl.
//!
//! A package key is `pkg:<type>/<namespace>/<name>` in lower case, without
//! version, qualifiers or subpath: `pkg:maven/org.apache.logging.log4j/log4j-core`,
//! `pkg:golang/github.com/gin-gonic/gin`, `pkg:npm/@babel/core`.

use packageurl::PackageUrl;
use std::fmt;
use std::str::FromStr;

/// A parsed, canonical package URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purl(PackageUrl<'static>);

/// Why a package URL could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "not a valid package URL ({0}); expected e.g. pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
)]
pub struct PurlError(String);

impl Purl {
    pub fn parse(raw: &str) -> Result<Purl, PurlError> {
        let raw = raw.trim();
        // Accept the scheme in any case (`PKG:npm/…`), as people paste it.
        let fixed;
        let raw = match raw.get(..4) {
            Some(s) if s.eq_ignore_ascii_case("pkg:") && !raw.starts_with("pkg:") => {
                fixed = format!("pkg:{}", &raw[4..]);
                fixed.as_str()
            }
            _ => raw,
        };
        PackageUrl::from_str(raw)
            .map(Purl)
            .map_err(|e| PurlError(e.to_string()))
    }

    pub fn ty(&self) -> &str {
        self.0.ty()
    }

    pub fn namespace(&self) -> Option<&str> {
        self.0.namespace()
    }

    pub fn name(&self) -> &str {
        self.0.name()
    }

    pub fn version(&self) -> Option<&str> {
        self.0.version()
    }

    /// The same package at another version (or none).
    pub fn with_version(mut self, version: Option<String>) -> Purl {
        match version {
            Some(v) => {
                // Only an empty version is refused by the crate; keep the
                // old one rather than lose the package in that case.
                let _ = self.0.with_version(v);
            }
            None => {
                self.0.without_version();
            }
        }
        self
    }

    /// The package's identity without version: see the module docs.
    pub fn key(&self) -> String {
        package_key(self.ty(), self.namespace(), self.name())
    }
}

impl fmt::Display for Purl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

fn package_key(ty: &str, namespace: Option<&str>, name: &str) -> String {
    let mut key = format!("pkg:{}/", ty.to_lowercase());
    if let Some(ns) = namespace.filter(|n| !n.is_empty()) {
        key.push_str(ns.trim_matches('/'));
        key.push('/');
    }
    let name = if ty.eq_ignore_ascii_case("pypi") {
        name.replace('_', "-")
    } else {
        name.to_string()
    };
    key.push_str(name.trim_matches('/'));
    key.to_lowercase()
}

/// Split a full package name at its last `/` into namespace and name.
fn split_last(full: &str) -> (Option<&str>, &str) {
    match full.rsplit_once('/') {
        Some((ns, name)) if !ns.is_empty() && !name.is_empty() => (Some(ns), name),
        _ => (None, full),
    }
}

/// The package key of an OSV `affected[].package` (ecosystem and name), for
/// the ecosystems that have a purl type. `None` for the others.
pub fn osv_package_key(ecosystem: &str, name: &str) -> Option<String> {
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    // Ecosystems may carry a release: `Debian:11`, `Alpine:v3.16`.
    let (eco, _release) = ecosystem.split_once(':').unwrap_or((ecosystem, ""));
    let key = match eco.trim() {
        "Go" => {
            let (ns, n) = split_last(name);
            package_key("golang", ns, n)
        }
        "npm" => {
            let (ns, n) = split_last(name);
            package_key("npm", ns, n)
        }
        "PyPI" => package_key("pypi", None, name),
        "Maven" => {
            let (group, artifact) = name.split_once(':')?;
            package_key("maven", Some(group), artifact)
        }
        "crates.io" => package_key("cargo", None, name),
        "NuGet" => package_key("nuget", None, name),
        "RubyGems" => package_key("gem", None, name),
        "Packagist" => {
            let (ns, n) = split_last(name);
            package_key("composer", ns, n)
        }
        "Hex" => package_key("hex", None, name),
        "Pub" => package_key("pub", None, name),
        "Bitnami" => package_key("bitnami", None, name),
        "Hackage" => package_key("hackage", None, name),
        "CRAN" => package_key("cran", None, name),
        "SwiftURL" => package_key("swift", None, name),
        "GitHub Actions" => {
            let (ns, n) = split_last(name);
            package_key("github", ns, n)
        }
        "Debian" => package_key("deb", Some("debian"), name),
        "Ubuntu" => package_key("deb", Some("ubuntu"), name),
        "Alpine" => package_key("apk", Some("alpine"), name),
        _ => return None,
    };
    Some(key)
}

/// The package key of a CVE 5 `affected` entry that names a package in a
/// known registry (`collectionURL` + `packageName`). `None` otherwise.
pub fn collection_package_key(collection_url: &str, package_name: &str) -> Option<String> {
    let url = collection_url.trim().to_lowercase();
    let name = package_name.trim();
    if name.is_empty() {
        return None;
    }
    let ecosystem = if url.contains("maven") {
        // Maven names come as `group:artifact` or `group/artifact`.
        let (group, artifact) = name.split_once(':').or_else(|| name.rsplit_once('/'))?;
        return Some(package_key("maven", Some(group), artifact));
    } else if url.contains("npmjs") {
        "npm"
    } else if url.contains("pypi") {
        "PyPI"
    } else if url.contains("pkg.go.dev") || url.contains("golang.org") {
        "Go"
    } else if url.contains("crates.io") {
        "crates.io"
    } else if url.contains("packagist") {
        "Packagist"
    } else if url.contains("rubygems") {
        "RubyGems"
    } else if url.contains("nuget") {
        "NuGet"
    } else if url.contains("hex.pm") {
        "Hex"
    } else if url.contains("pub.dev") {
        "Pub"
    } else {
        return None;
    };
    osv_package_key(ecosystem, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_key() {
        let p = Purl::parse("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar")
            .expect("valid");
        assert_eq!(p.ty(), "maven");
        assert_eq!(p.namespace(), Some("org.apache.logging.log4j"));
        assert_eq!(p.name(), "log4j-core");
        assert_eq!(p.version(), Some("2.14.1"));
        assert_eq!(p.key(), "pkg:maven/org.apache.logging.log4j/log4j-core");
        let p = Purl::parse("PKG:PyPI/Django_Rest@3.0").expect("valid");
        assert_eq!(p.key(), "pkg:pypi/django-rest");
        let p = Purl::parse("pkg:npm/%40babel/core@7.0.0").expect("valid");
        assert_eq!(p.key(), "pkg:npm/@babel/core");
        assert!(Purl::parse("maven/org.apache/x").is_err());
        assert!(Purl::parse("pkg:").is_err());
    }

    #[test]
    fn versions_can_be_replaced() {
        let p = Purl::parse("pkg:golang/github.com/gin-gonic/gin@v1.5.0").expect("valid");
        let q = p.clone().with_version(Some("v1.6.0".into()));
        assert_eq!(q.version(), Some("v1.6.0"));
        assert_eq!(q.key(), p.key());
        assert_eq!(q.with_version(None).version(), None);
    }

    #[test]
    fn osv_and_cve5_packages_meet_purls() {
        let gin = Purl::parse("pkg:golang/github.com/gin-gonic/gin@v1.5.0").expect("valid");
        assert_eq!(
            osv_package_key("Go", "github.com/gin-gonic/gin"),
            Some(gin.key())
        );
        let log4j =
            Purl::parse("pkg:maven/org.apache.logging.log4j/log4j-core@2.0").expect("valid");
        assert_eq!(
            osv_package_key("Maven", "org.apache.logging.log4j:log4j-core"),
            Some(log4j.key())
        );
        assert_eq!(
            collection_package_key(
                "https://repo.maven.apache.org/maven2",
                "org.apache.logging.log4j:log4j-core"
            ),
            Some(log4j.key())
        );
        let babel = Purl::parse("pkg:npm/%40babel/core").expect("valid");
        assert_eq!(osv_package_key("npm", "@babel/core"), Some(babel.key()));
        assert_eq!(
            collection_package_key("https://registry.npmjs.org", "@babel/core"),
            Some(babel.key())
        );
        assert_eq!(
            osv_package_key("Bitnami", "wordpress").as_deref(),
            Some("pkg:bitnami/wordpress")
        );
        assert_eq!(
            osv_package_key("Debian:11", "openssl").as_deref(),
            Some("pkg:deb/debian/openssl")
        );
        assert_eq!(osv_package_key("Unknown", "x"), None);
        assert_eq!(collection_package_key("https://example.com", "x"), None);
    }
}
