//! The `openwarp` binary: serve the web application, migrate the database,
//! run a seeded demo, and administer users and organisations.
//!
//! This is the only place that knows about processes: configuration files,
//! environment variables, exit statuses and signals. Everything below it
//! (`openwarp-web`, `openwarp-store`, `openwarp-core`) takes plain values.

mod admin;
// Assessments (issue 8)
mod assessment_framework;
// End of assessments (issue 8)
mod bench;
mod bench_alerts;
mod bench_load;
mod bench_match;
mod cli;
mod config;
mod cpe_dictionary;
mod demo;
mod demo_estate;
// Federation (issue 9)
mod demo_federation;
// End of federation (issue 9)
mod failure;
mod ingest;
mod logging;
mod ops;
mod serve;

use clap::Parser;
use cli::{AuditCommand, Cli, Command, ConfigArgs, OrgCommand, SecretsKeyCommand, UserCommand};
use config::{Config, LogFormat};
use std::process::ExitCode;

fn main() -> ExitCode {
    // clap prints usage errors itself and exits with status 2.
    let cli = Cli::parse();
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| runtime.block_on(run(cli.command)));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let (lines, code) = failure::report(&err);
            for line in lines {
                eprintln!("{line}");
            }
            ExitCode::from(code)
        }
    }
}

/// Load configuration, start logging, run the chosen command.
async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => {
            let config = configure(&args.config)?;
            serve::serve(&config, args.listen.as_deref()).await
        }
        Command::Migrate(args) => serve::migrate(&configure(&args)?).await,
        Command::Rematch(args) => serve::rematch(&configure(&args)?).await,
        Command::Demo(args) => {
            logging::init(LogFormat::Text);
            demo::run(&args).await
        }
        Command::User(UserCommand::Add(args)) => {
            admin::user_add(&configure(&args.config)?, &args).await
        }
        Command::User(UserCommand::ResetPassword(args)) => {
            admin::user_reset_password(&configure(&args.config)?, &args).await
        }
        Command::Org(OrgCommand::Add(args)) => {
            admin::org_add(&configure(&args.config)?, &args).await
        }
        Command::Ingest(args) => ingest::run(&configure(&args.config)?, &args).await,
        Command::BenchParse(args) => bench::parse(&args),
        Command::BenchMatch(args) => bench_match::run(&args).await,
        Command::BenchAlerts(args) => bench_alerts::run(&args).await,
        Command::BenchLoad(args) => {
            logging::init(LogFormat::Text);
            bench_load::run(&args).await
        }
        Command::Backup(args) => ops::backup(&configure(&args.config)?, &args.dest).await,
        Command::Restore(args) => ops::restore(&configure(&args.config)?, &args).await,
        Command::Audit(AuditCommand::Verify(args)) => ops::verify_audit(&configure(&args)?).await,
        Command::SecretsKey(SecretsKeyCommand::Rotate { config, new_path }) => {
            serve::rotate_secrets_key(&configure(&config)?, &new_path).await
        }
        Command::SecretsKey(SecretsKeyCommand::New { path }) => {
            serve::new_secrets_key(&path)?;
            println!(
                "Wrote a new secrets key to {}. Set secrets_key_file to this path (every instance \
                 needs the same key), and keep a copy apart from the database and its backups: \
                 without it, second factors, webhook secrets and peer credentials cannot be read.",
                path.display()
            );
            Ok(())
        }
        // Assessments (issue 8)
        Command::AssessmentFramework(args) if args.check => {
            assessment_framework::run(None, &args).await
        }
        Command::AssessmentFramework(args) => {
            assessment_framework::run(Some(&configure(&args.config)?), &args).await
        }
        // End of assessments (issue 8)
        Command::CpeDictionary(args) => cpe_dictionary::run(&configure(&args.config)?, &args).await,
    }
}

/// Read the configuration, then start logging in the format it asks for.
fn configure(args: &ConfigArgs) -> anyhow::Result<Config> {
    let config = Config::load(args.config.as_deref())?;
    logging::init(config.log_format);
    Ok(config)
}
