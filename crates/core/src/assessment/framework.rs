//! Assessment frameworks as data: versioned TOML files, not code.
//!
//! A framework is a tree — objectives, their principles, each principle's
//! contributing outcomes, each outcome's questions — read from TOML by
//! [`Framework::from_toml`]. The one we ship ([`Framework::shipped`], the file
//! `crates/core/frameworks/council-caf.toml`) follows the structure of the
//! NCSC Cyber Assessment Framework (objectives A–D) with questions in our own
//! words for councils; another file in the same shape loads without code
//! changes.
//!
//! The shape of a file:
//!
//! ```toml
//! id = "council-caf"        # lower-case letters, digits and hyphens: used in addresses
//! version = "2026.1"
//! title = "…"
//! description = "…"         # optional
//!
//! [[objective]]
//! id = "A"
//! title = "…"
//!
//! [[objective.principle]]
//! id = "A1"
//! title = "…"
//!
//! [[objective.principle.outcome]]
//! id = "A1.a"
//! title = "…"
//!
//! [[objective.principle.outcome.question]]
//! id = "A1.a.1"
//! text = "…"                # what is asked
//! weight = "high"           # low, medium or high: how much it matters
//! next_step = "…"           # what to do when it is not achieved
//! governance = true         # optional: one of the council governance points
//! ```
//!
//! A file that does not parse, or parses but breaks a rule (a duplicate id,
//! an objective without principles, an unknown weight, an empty question),
//! is refused with its name, the line and the reason ([`FrameworkError`]).
//! Reading the file is the caller's business: this module does no I/O.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use toml::Spanned;

/// The framework openwarp ships, as its file.
pub const SHIPPED_SOURCE: &str = include_str!("../../frameworks/council-caf.toml");
/// The shipped file's name, for messages.
pub const SHIPPED_FILE: &str = "council-caf.toml";

/// Longest title or question text, in characters.
const MAX_TEXT: usize = 1000;
/// Longest id, in characters.
const MAX_ID: usize = 40;

/// How much a question matters. Scores weigh each question by this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weight {
    Low,
    Medium,
    High,
}

impl Weight {
    pub const ALL: [Weight; 3] = [Weight::Low, Weight::Medium, Weight::High];

    /// The multiplier in scores: 1, 2 or 3.
    pub fn factor(self) -> u32 {
        match self {
            Weight::Low => 1,
            Weight::Medium => 2,
            Weight::High => 3,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Weight::Low => "low",
            Weight::Medium => "medium",
            Weight::High => "high",
        }
    }

    /// In words, for pages.
    pub fn label(self) -> &'static str {
        match self {
            Weight::Low => "Lower importance",
            Weight::Medium => "Important",
            Weight::High => "High importance",
        }
    }

    pub fn parse(s: &str) -> Option<Weight> {
        Weight::ALL.into_iter().find(|w| w.as_str() == s)
    }
}

/// One question, graded not achieved / partially achieved / achieved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Question {
    pub id: String,
    pub text: String,
    pub weight: Weight,
    /// What to do when it is not (fully) achieved, in plain English.
    pub next_step: String,
    /// One of the council governance points (senior officer, lead member,
    /// plans, training, WARP membership).
    pub governance: bool,
}

/// A contributing outcome: a few questions about one thing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub id: String,
    pub title: String,
    pub questions: Vec<Question>,
}

/// A principle: the outcomes that together achieve it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principle {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub outcomes: Vec<Outcome>,
}

/// An objective (A–D in the shipped framework).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Objective {
    pub id: String,
    pub title: String,
    pub principles: Vec<Principle>,
}

/// A whole framework, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Framework {
    /// Lower-case letters, digits and hyphens; used in addresses.
    pub id: String,
    pub version: String,
    pub title: String,
    pub description: String,
    pub objectives: Vec<Objective>,
}

/// Where a question sits in its framework.
#[derive(Debug, Clone, Copy)]
pub struct Placed<'a> {
    pub objective: &'a Objective,
    pub principle: &'a Principle,
    pub outcome: &'a Outcome,
    pub question: &'a Question,
}

/// A framework file refused: which file, which line (when known) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameworkError {
    pub file: String,
    /// 1-based line; `None` when the problem is the file as a whole.
    pub line: Option<usize>,
    pub reason: String,
}

impl fmt::Display for FrameworkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}, line {}: {}", self.file, line, self.reason),
            None => write!(f, "{}: {}", self.file, self.reason),
        }
    }
}

impl std::error::Error for FrameworkError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFramework {
    id: Spanned<String>,
    version: Spanned<String>,
    title: Spanned<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    objective: Vec<RawObjective>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawObjective {
    id: Spanned<String>,
    title: Spanned<String>,
    #[serde(default)]
    principle: Vec<RawPrinciple>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrinciple {
    id: Spanned<String>,
    title: Spanned<String>,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    outcome: Vec<RawOutcome>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutcome {
    id: Spanned<String>,
    title: Spanned<String>,
    #[serde(default)]
    question: Vec<RawQuestion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: Spanned<String>,
    text: Spanned<String>,
    weight: Spanned<String>,
    next_step: Spanned<String>,
    #[serde(default)]
    governance: bool,
}

/// 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    let at = at.min(text.len());
    text.as_bytes()[..at]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

struct Checker<'a> {
    file: &'a str,
    source: &'a str,
    /// Every id seen, with its line (ids are unique across the whole file).
    seen: HashMap<String, usize>,
}

impl Checker<'_> {
    fn fail(&self, at: usize, reason: impl Into<String>) -> FrameworkError {
        FrameworkError {
            file: self.file.to_string(),
            line: Some(line_of(self.source, at)),
            reason: reason.into(),
        }
    }

    fn text(&self, what: &str, value: &Spanned<String>) -> Result<String, FrameworkError> {
        let t = value.get_ref().trim();
        if t.is_empty() {
            return Err(self.fail(value.span().start, format!("{what} must not be empty")));
        }
        if t.chars().count() > MAX_TEXT {
            return Err(self.fail(
                value.span().start,
                format!("{what} must be at most {MAX_TEXT} characters"),
            ));
        }
        Ok(t.to_string())
    }

    /// An id: unique in the file, letters, digits, `.`, `-` and `_`.
    fn id(&mut self, what: &str, value: &Spanned<String>) -> Result<String, FrameworkError> {
        let id = value.get_ref().trim().to_string();
        let at = value.span().start;
        if id.is_empty() || id.chars().count() > MAX_ID {
            return Err(self.fail(
                at,
                format!("{what} id must be 1 to {MAX_ID} characters long"),
            ));
        }
        if !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        {
            return Err(self.fail(
                at,
                format!("{what} id '{id}' may only use letters, digits, '.', '-' and '_'"),
            ));
        }
        let line = line_of(self.source, at);
        if let Some(first) = self.seen.insert(id.clone(), line) {
            return Err(self.fail(
                at,
                format!(
                    "duplicate id '{id}' (first used on line {first}); every id must be unique"
                ),
            ));
        }
        Ok(id)
    }
}

impl Framework {
    /// Read and check a framework file's text. `file` names it in errors.
    pub fn from_toml(file: &str, source: &str) -> Result<Framework, FrameworkError> {
        let raw: RawFramework = toml::from_str(source).map_err(|e| FrameworkError {
            file: file.to_string(),
            line: e.span().map(|s| line_of(source, s.start)),
            reason: e.message().trim().to_string(),
        })?;
        let mut c = Checker {
            file,
            source,
            seen: HashMap::new(),
        };
        let id = raw.id.get_ref().trim().to_string();
        if id.is_empty()
            || id.len() > MAX_ID
            || !id
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
        {
            return Err(c.fail(
                raw.id.span().start,
                "the framework id must be 1 to 40 lower-case letters, digits or hyphens",
            ));
        }
        let version = c.text("version", &raw.version)?;
        let title = c.text("title", &raw.title)?;
        if raw.objective.is_empty() {
            return Err(FrameworkError {
                file: file.to_string(),
                line: None,
                reason: "the framework has no [[objective]]".into(),
            });
        }
        let mut objectives = Vec::new();
        for o in &raw.objective {
            let oid = c.id("objective", &o.id)?;
            let otitle = c.text("objective title", &o.title)?;
            if o.principle.is_empty() {
                return Err(c.fail(
                    o.id.span().start,
                    format!("objective '{oid}' has no principles ([[objective.principle]])"),
                ));
            }
            let mut principles = Vec::new();
            for p in &o.principle {
                let pid = c.id("principle", &p.id)?;
                let ptitle = c.text("principle title", &p.title)?;
                if p.outcome.is_empty() {
                    return Err(c.fail(
                        p.id.span().start,
                        format!(
                            "principle '{pid}' has no outcomes ([[objective.principle.outcome]])"
                        ),
                    ));
                }
                let mut outcomes = Vec::new();
                for out in &p.outcome {
                    let uid = c.id("outcome", &out.id)?;
                    let utitle = c.text("outcome title", &out.title)?;
                    if out.question.is_empty() {
                        return Err(c.fail(
                            out.id.span().start,
                            format!("outcome '{uid}' has no questions"),
                        ));
                    }
                    let mut questions = Vec::new();
                    for q in &out.question {
                        let qid = c.id("question", &q.id)?;
                        let text = c.text("question text", &q.text)?;
                        let next_step = c.text("next_step", &q.next_step)?;
                        let weight = Weight::parse(q.weight.get_ref().trim()).ok_or_else(|| {
                            c.fail(
                                q.weight.span().start,
                                format!(
                                    "unknown weight '{}' for question '{qid}': use low, medium or high",
                                    q.weight.get_ref()
                                ),
                            )
                        })?;
                        questions.push(Question {
                            id: qid,
                            text,
                            weight,
                            next_step,
                            governance: q.governance,
                        });
                    }
                    outcomes.push(Outcome {
                        id: uid,
                        title: utitle,
                        questions,
                    });
                }
                principles.push(Principle {
                    id: pid,
                    title: ptitle,
                    summary: p.summary.trim().to_string(),
                    outcomes,
                });
            }
            objectives.push(Objective {
                id: oid,
                title: otitle,
                principles,
            });
        }
        Ok(Framework {
            id,
            version,
            title,
            description: raw.description.trim().to_string(),
            objectives,
        })
    }

    /// The framework openwarp ships. Its file is checked by the unit tests,
    /// so this cannot fail in a released build; the `Result` is there
    /// because nothing from a file is trusted without checking.
    pub fn shipped() -> Result<Framework, FrameworkError> {
        Framework::from_toml(SHIPPED_FILE, SHIPPED_SOURCE)
    }

    /// Every question with its place, in framework order.
    pub fn questions(&self) -> impl Iterator<Item = Placed<'_>> {
        self.objectives.iter().flat_map(|objective| {
            objective.principles.iter().flat_map(move |principle| {
                principle.outcomes.iter().flat_map(move |outcome| {
                    outcome.questions.iter().map(move |question| Placed {
                        objective,
                        principle,
                        outcome,
                        question,
                    })
                })
            })
        })
    }

    /// How many questions there are.
    pub fn question_count(&self) -> usize {
        self.questions().count()
    }

    /// Every principle, in order.
    pub fn principles(&self) -> impl Iterator<Item = &Principle> {
        self.objectives.iter().flat_map(|o| o.principles.iter())
    }

    /// Every outcome, in order.
    pub fn outcomes(&self) -> impl Iterator<Item = &Outcome> {
        self.principles().flat_map(|p| p.outcomes.iter())
    }

    pub fn principle(&self, id: &str) -> Option<&Principle> {
        self.principles().find(|p| p.id == id)
    }

    pub fn question(&self, id: &str) -> Option<Placed<'_>> {
        self.questions().find(|p| p.question.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINI: &str = include_str!("testdata/mini-framework.toml");

    fn refused(source: &str) -> FrameworkError {
        match Framework::from_toml("bad.toml", source) {
            Err(e) => e,
            Ok(f) => unreachable!("accepted {}", f.id),
        }
    }

    #[test]
    fn the_shipped_framework_loads_and_follows_the_caf_shape() {
        let f = Framework::shipped().unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(f.id, "council-caf");
        let objectives: Vec<&str> = f.objectives.iter().map(|o| o.id.as_str()).collect();
        assert_eq!(objectives, ["A", "B", "C", "D"]);
        let principles: Vec<&str> = f.principles().map(|p| p.id.as_str()).collect();
        assert_eq!(
            principles,
            [
                "A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4", "B5", "B6", "C1", "C2", "D1", "D2"
            ]
        );
        // Every outcome sits under its principle's id, every question under its outcome's.
        for p in f.principles() {
            for o in &p.outcomes {
                assert!(o.id.starts_with(&format!("{}.", p.id)), "{}", o.id);
                for q in &o.questions {
                    assert!(q.id.starts_with(&format!("{}.", o.id)), "{}", q.id);
                }
            }
        }
        // The council governance points are there.
        let governance: Vec<String> = f
            .questions()
            .filter(|p| p.question.governance)
            .map(|p| p.question.text.to_lowercase())
            .collect();
        for needle in [
            "senior officer",
            "lead member",
            "business continuity",
            "civil contingenc",
            "escalat",
            "councillors",
            "warp",
        ] {
            assert!(
                governance.iter().any(|t| t.contains(needle)),
                "no governance question mentions {needle}"
            );
        }
    }

    #[test]
    fn a_second_framework_loads_without_code_changes() {
        let f = Framework::from_toml("mini-framework.toml", MINI)
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(f.id, "mini");
        assert_eq!(f.version, "1");
        assert_eq!(f.objectives.len(), 2);
        assert_eq!(f.question_count(), 4);
        let q = f.question("X1.a.2").unwrap_or_else(|| unreachable!());
        assert_eq!(q.principle.id, "X1");
        assert_eq!(q.question.weight, Weight::Low);
    }

    #[test]
    fn a_syntax_error_names_the_file_and_line() {
        let e = refused("id = \"x\"\nversion = \"1\"\ntitle = \"T\n");
        assert_eq!(e.file, "bad.toml");
        assert_eq!(e.line, Some(3));
        assert!(e.to_string().starts_with("bad.toml, line 3: "), "{e}");
    }

    #[test]
    fn a_missing_field_and_an_unknown_field_are_named() {
        let e = refused(
            "id = \"x\"\nversion = \"1\"\ntitle = \"T\"\n\n[[objective]]\nid = \"A\"\ntitle = \"a\"\n\n[[objective.principle]]\nid = \"A1\"\ntitle = \"p\"\n\n[[objective.principle.outcome]]\nid = \"A1.a\"\ntitle = \"o\"\n\n[[objective.principle.outcome.question]]\nid = \"A1.a.1\"\ntext = \"q\"\nweight = \"high\"\n",
        );
        assert!(e.reason.contains("next_step"), "{e}");
        assert!(e.line.is_some(), "{e}");
        let e = refused("id = \"x\"\nversion = \"1\"\ntitle = \"T\"\ncolour = \"red\"\n");
        assert!(e.reason.contains("colour"), "{e}");
        assert_eq!(e.line, Some(4));
    }

    #[test]
    fn semantic_problems_name_their_line() {
        // A duplicate question id: the second one's line.
        let dup = MINI.replacen("id = \"X1.a.2\"", "id = \"X1.a.1\"", 1);
        let e = refused(&dup);
        let line = dup
            .lines()
            .position(|l| l.contains("X1.a.1"))
            .map(|i| i + 1)
            .unwrap_or(0);
        assert!(e.reason.contains("duplicate id 'X1.a.1'"), "{e}");
        assert!(
            e.reason.contains(&format!("first used on line {line}")),
            "{e}"
        );
        assert!(e.line > Some(line), "{e}");
        // An unknown weight.
        let bad = MINI.replacen("weight = \"low\"", "weight = \"huge\"", 1);
        let e = refused(&bad);
        let line = bad.lines().position(|l| l.contains("huge")).map(|i| i + 1);
        assert_eq!(e.line, line);
        assert!(e.reason.contains("unknown weight 'huge'"), "{e}");
        // A principle with no outcomes.
        let e = refused(
            "id = \"x\"\nversion = \"1\"\ntitle = \"T\"\n[[objective]]\nid = \"A\"\ntitle = \"a\"\n[[objective.principle]]\nid = \"A1\"\ntitle = \"p\"\n",
        );
        assert_eq!(e.line, Some(8));
        assert!(e.reason.contains("principle 'A1' has no outcomes"), "{e}");
        // An objective with no principles.
        let e = refused(
            "id = \"x\"\nversion = \"1\"\ntitle = \"T\"\n[[objective]]\nid = \"A\"\ntitle = \"a\"\n",
        );
        assert_eq!(e.line, Some(5));
        assert!(e.reason.contains("no principles"), "{e}");
        // No objectives at all.
        let e = refused("id = \"x\"\nversion = \"1\"\ntitle = \"T\"\n");
        assert_eq!(e.line, None);
        // An empty question text.
        let bad = MINI.replacen("text = \"", "text = \"  \" # was \"", 1);
        let e = refused(&bad);
        assert!(e.reason.contains("question text must not be empty"), "{e}");
        // A framework id that cannot go in an address.
        let e = refused("id = \"Not OK\"\nversion = \"1\"\ntitle = \"T\"\n");
        assert_eq!(e.line, Some(1));
    }
}
