//! `openwarp assessment-framework PATH`: check a self-assessment framework
//! file (TOML) and install it, so members can take it without a new
//! release. A file that does not parse or breaks a rule is refused with its
//! name, line and reason (exit status 2), and nothing is stored.

use crate::cli::AssessmentFrameworkArgs;
use crate::config::Config;
use crate::failure::bad_input;
use crate::serve::open_configured;
use openwarp_core::assessment::Framework;

/// Read and check the file: the framework and its source text.
pub fn load(args: &AssessmentFrameworkArgs) -> anyhow::Result<(Framework, String, String)> {
    let name = args
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| args.path.display().to_string());
    let source = std::fs::read_to_string(&args.path)
        .map_err(|e| bad_input("PATH", format!("{}: {e}", args.path.display())))?;
    let framework = Framework::from_toml(&name, &source).map_err(|e| bad_input("PATH", e))?;
    Ok((framework, name, source))
}

pub async fn run(config: Option<&Config>, args: &AssessmentFrameworkArgs) -> anyhow::Result<()> {
    let (framework, name, source) = load(args)?;
    let questions = framework.question_count();
    let Some(config) = config else {
        println!(
            "{name}: framework '{}' version {} is valid ({questions} questions); not installed (--check)",
            framework.id, framework.version
        );
        return Ok(());
    };
    let store = open_configured(config).await?;
    let new = store
        .install_framework(&framework, &name, &source, openwarp_store::now())
        .await?;
    println!(
        "{name}: framework '{}' version {} ({questions} questions) {}",
        framework.id,
        framework.version,
        if new {
            "installed; members can take it now"
        } else {
            "was already installed"
        }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::ConfigArgs;
    use crate::failure::report;

    fn args(path: std::path::PathBuf) -> AssessmentFrameworkArgs {
        AssessmentFrameworkArgs {
            config: ConfigArgs { config: None },
            check: true,
            path,
        }
    }

    #[test]
    fn a_malformed_file_is_refused_with_its_name_line_and_reason() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("broken-framework.toml");
        std::fs::write(
            &path,
            "id = \"broken\"\nversion = \"1\"\ntitle = \"Broken\"\n\n[[objective]]\nid = \"A\"\ntitle = \"Empty\"\n",
        )
        .expect("write");
        let err = match load(&args(path)) {
            Err(e) => e,
            Ok((f, _, _)) => panic!("accepted {}", f.id),
        };
        let (lines, code) = report(&err);
        assert_eq!(code, crate::failure::BAD_INPUT);
        assert_eq!(
            lines.join("\n"),
            "error: PATH: broken-framework.toml, line 6: objective 'A' has no principles ([[objective.principle]])"
        );
        // A file that is fine loads, from any path.
        let good = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../core/src/assessment/testdata/mini-framework.toml");
        let (f, name, _) = load(&args(good)).expect("mini");
        assert_eq!(
            (f.id.as_str(), name.as_str()),
            ("mini", "mini-framework.toml")
        );
    }
}
