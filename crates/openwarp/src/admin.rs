//! Administration from the command line: the first operator, password
//! resets, member organisations.
//!
//! Every command validates with the same core rules as the web forms, refuses
//! bad input with exit status 2 naming the flag at fault, and writes an audit
//! entry with the actor "cli" so changes made outside the web UI are visible.

use crate::cli::{OrgAddArgs, ResetPasswordArgs, UserAddArgs};
use crate::config::Config;
use crate::failure::{bad_input, invalid};
use crate::serve::open_configured;
use anyhow::Context;
use chrono::Duration;
use openwarp_core::account::display_name;
use openwarp_core::membership::OrganisationInput;
use openwarp_core::{Email, OrgId, Password, Role};
use openwarp_store::{AuditEntry, NewUser, Store, User, crypto};
use std::io::{BufRead, IsTerminal};

/// Who the audit log says acted, for everything done from the command line.
const ACTOR: &str = "cli";

/// A user as typed, checked before the database is touched.
struct UserRequest {
    email: Email,
    name: String,
    role: Role,
    org: Option<String>,
    password: Option<Password>,
}

/// `openwarp user add`.
pub async fn user_add(config: &Config, args: &UserAddArgs) -> anyhow::Result<()> {
    let request = parse_user(args, read_stdin_line)?;
    let store = open_configured(config).await?;
    let org_id = resolve_org(&store, request.role, request.org.as_deref()).await?;
    let hash = password_hash(request.password, &request.email).await?;
    let now = openwarp_store::now();
    let user = store
        .create_user(
            &NewUser {
                email: request.email,
                display_name: request.name,
                role: request.role,
                org_id,
                password_hash: hash.value,
            },
            now,
        )
        .await
        .context("creating the user")?;
    audit_user_created(&store, &user, hash.chosen).await?;
    println!(
        "created {} {} <{}>",
        user.role.as_str(),
        user.display_name,
        user.email
    );
    if !hash.chosen {
        let link = reset_link(&store, config, &user).await?;
        println!(
            "send them this one-time link to choose a password (valid {} hours):\n  {link}",
            config.sessions.reset_hours
        );
    }
    store.close().await;
    Ok(())
}

/// Check every flag of `user add`; `read_password` supplies the stdin line.
fn parse_user(
    args: &UserAddArgs,
    read_password: impl FnOnce() -> std::io::Result<String>,
) -> anyhow::Result<UserRequest> {
    let email = Email::parse(&args.email).map_err(|e| bad_input("--email", e))?;
    let name = display_name(&args.name).map_err(|e| bad_input("--name", e))?;
    let role: Role = args.role.parse().map_err(|e| bad_input("--role", e))?;
    let org = args.org.as_deref().map(str::trim).filter(|o| !o.is_empty());
    match (role.belongs_to_member(), org) {
        (true, None) => {
            return Err(bad_input(
                "--org",
                format!("is required for a {}", role.as_str()),
            ));
        }
        (false, Some(_)) => {
            return Err(bad_input(
                "--org",
                "must not be given for an operator (operators belong to the WARP itself)",
            ));
        }
        _ => {}
    }
    let password = if args.password_stdin {
        let line = read_password().context("reading the password from standard input")?;
        let raw = line.trim_end_matches(['\r', '\n']);
        Some(Password::new(raw, &email).map_err(|e| bad_input("--password-stdin", e))?)
    } else {
        None
    };
    Ok(UserRequest {
        email,
        name,
        role,
        org: org.map(str::to_string),
        password,
    })
}

/// The first line of standard input (a password piped in or typed). Meant
/// for piping from a secrets manager; at a terminal the input is visible, so
/// say so rather than surprise anyone.
fn read_stdin_line() -> std::io::Result<String> {
    if std::io::stdin().is_terminal() {
        eprint!("password (typing is visible; Ctrl-D to cancel): ");
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line)
}

/// The organisation a member user belongs to, looked up by name.
async fn resolve_org(
    store: &Store,
    role: Role,
    org: Option<&str>,
) -> anyhow::Result<Option<OrgId>> {
    let Some(name) = org.filter(|_| role.belongs_to_member()) else {
        return Ok(None);
    };
    let found = store
        .find_org_by_name(name)
        .await
        .context("looking up the organisation")?;
    match found {
        Some(o) => Ok(Some(o.id)),
        None => Err(bad_input(
            "--org",
            format!("no organisation called '{name}' (add it first with `openwarp org add`)"),
        )),
    }
}

/// A password hash, and whether the person chose the password.
struct Hash {
    value: String,
    chosen: bool,
}

/// Hash the given password, or — when none was given — a random one nobody
/// knows, so the account exists but can only be entered through a reset link.
/// Hashing is slow by design, so it runs off the async threads.
async fn password_hash(password: Option<Password>, email: &Email) -> anyhow::Result<Hash> {
    let chosen = password.is_some();
    let password = match password {
        Some(p) => p,
        None => Password::new(&crypto::new_token(), email)
            .map_err(|e| anyhow::anyhow!("generating a placeholder password: {e}"))?,
    };
    let value = tokio::task::spawn_blocking(move || crypto::hash_password(&password))
        .await
        .context("hashing the password")?
        .context("hashing the password")?;
    Ok(Hash { value, chosen })
}

/// Record the new account in the audit log.
async fn audit_user_created(
    store: &Store,
    user: &User,
    password_chosen: bool,
) -> anyhow::Result<()> {
    let detail = serde_json::json!({
        "role": user.role.as_str(),
        "password": if password_chosen { "set from standard input" } else { "reset link issued" },
    });
    audit(store, "user.create", user.org_id, &user.email, detail).await
}

/// `openwarp user reset-password`.
pub async fn user_reset_password(config: &Config, args: &ResetPasswordArgs) -> anyhow::Result<()> {
    let email = Email::parse(&args.email).map_err(|e| bad_input("--email", e))?;
    let store = open_configured(config).await?;
    let found = store
        .find_user_by_email(email.as_str())
        .await
        .context("looking up the user")?;
    let Some(user) = found.map(|u| u.user) else {
        return Err(bad_input(
            "--email",
            format!("no user has the address {email}"),
        ));
    };
    let link = reset_link(&store, config, &user).await?;
    if user.disabled {
        eprintln!("warning: {email} is disabled; they cannot sign in until re-enabled");
    }
    println!(
        "one-time password-reset link for {} (valid {} hours; earlier links stop working):\n  {link}",
        user.email, config.sessions.reset_hours
    );
    store.close().await;
    Ok(())
}

/// Issue a reset token for `user`, audit it, and build its link.
async fn reset_link(store: &Store, config: &Config, user: &User) -> anyhow::Result<String> {
    let now = openwarp_store::now();
    let token = store
        .create_password_reset(
            user.id,
            None,
            now,
            Duration::hours(config.sessions.reset_hours),
        )
        .await
        .context("issuing a password-reset link")?;
    let detail = serde_json::json!({ "valid_hours": config.sessions.reset_hours });
    audit(
        store,
        "user.password_reset_issued",
        user.org_id,
        &user.email,
        detail,
    )
    .await?;
    Ok(format!("{}/reset/{token}", config.base_url()))
}

/// `openwarp org add`.
pub async fn org_add(config: &Config, args: &OrgAddArgs) -> anyhow::Result<()> {
    let draft = org_input(args).validate().map_err(invalid)?;
    let store = open_configured(config).await?;
    let org = store
        .create_org(&draft, openwarp_store::now())
        .await
        .context("creating the organisation")?;
    let fee = org.annual_fee(&config.fees);
    let detail = serde_json::json!({
        "name": org.name,
        "council_type": org.council_type.as_str(),
        "employers_member": org.employers_member,
        "status": org.status.as_str(),
        "renewal_date": org.renewal_date.to_string(),
    });
    audit(
        &store,
        "org.create",
        Some(org.id),
        &format!("org:{}", org.id),
        detail,
    )
    .await?;
    println!(
        "created {} ({}, {}), renewal {}, annual fee {fee}{}",
        org.name,
        org.council_type.label(),
        org.status.as_str(),
        org.renewal_date,
        if org.employers_member {
            ""
        } else {
            " (includes the non-members' premium)"
        }
    );
    store.close().await;
    Ok(())
}

/// The flags of `org add` as the untrusted input the core validates.
fn org_input(args: &OrgAddArgs) -> OrganisationInput {
    OrganisationInput {
        name: args.name.clone(),
        council_type: args.council_type.clone(),
        employers_member: !args.non_employers_member,
        status: args.status.clone(),
        renewal_date: args.renewal.clone(),
        senior_officer_name: args.senior_officer_name.clone(),
        senior_officer_email: args.senior_officer_email.clone(),
        senior_officer_phone: args.senior_officer_phone.clone(),
        lead_member_name: args.lead_member_name.clone(),
        lead_member_email: args.lead_member_email.clone(),
        lead_member_phone: args.lead_member_phone.clone(),
    }
}

/// Append an audit entry made from the command line.
async fn audit(
    store: &Store,
    action: &str,
    org_id: Option<OrgId>,
    target: &str,
    detail: serde_json::Value,
) -> anyhow::Result<()> {
    store
        .audit(
            AuditEntry {
                actor_user_id: None,
                actor: ACTOR,
                action,
                org_id,
                target,
                detail,
                ip: None,
            },
            openwarp_store::now(),
        )
        .await
        .with_context(|| format!("writing the audit entry {action}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::report;

    fn args(email: &str, role: &str, org: Option<&str>, stdin: bool) -> UserAddArgs {
        UserAddArgs {
            config: Default::default(),
            email: email.into(),
            name: "Jo Bloggs".into(),
            role: role.into(),
            org: org.map(str::to_string),
            password_stdin: stdin,
        }
    }

    fn no_stdin() -> std::io::Result<String> {
        panic!("stdin should not be read")
    }

    fn refusal(result: anyhow::Result<UserRequest>) -> (Vec<String>, u8) {
        report(&result.err().expect("refused"))
    }

    #[test]
    fn bad_email_names_the_flag() {
        let (lines, code) = refusal(parse_user(&args("jo", "operator", None, false), no_stdin));
        assert_eq!(code, 2);
        assert_eq!(
            lines,
            vec!["error: --email: must look like name@example.gov.uk"]
        );
    }

    #[test]
    fn member_roles_need_an_org_and_operators_must_not_have_one() {
        let (lines, code) = refusal(parse_user(
            &args("jo@kent.gov.uk", "member_lead", None, false),
            no_stdin,
        ));
        assert_eq!(code, 2);
        assert!(lines[0].starts_with("error: --org:"), "{lines:?}");
        let (lines, _) = refusal(parse_user(
            &args(
                "jo@kent.gov.uk",
                "operator",
                Some("Kent County Council"),
                false,
            ),
            no_stdin,
        ));
        assert!(lines[0].starts_with("error: --org:"), "{lines:?}");
    }

    #[test]
    fn weak_stdin_password_is_refused() {
        let (lines, code) = refusal(parse_user(
            &args("jo@kent.gov.uk", "operator", None, true),
            || Ok("short\n".into()),
        ));
        assert_eq!(code, 2);
        assert!(
            lines[0].starts_with("error: --password-stdin:"),
            "{lines:?}"
        );
    }

    #[test]
    fn stdin_password_loses_only_its_line_ending() {
        let request = parse_user(
            &args(" Jo@Kent.gov.uk ", "member_user", Some(" Kent "), true),
            || Ok("correct horse battery staple \r\n".into()),
        )
        .expect("valid");
        assert_eq!(request.email.as_str(), "jo@kent.gov.uk");
        assert_eq!(request.org.as_deref(), Some("Kent"));
        assert_eq!(
            request.password.as_ref().map(Password::expose),
            Some("correct horse battery staple ")
        );
    }

    #[tokio::test]
    async fn unknown_org_is_bad_input() {
        let db = openwarp_store::testing::sqlite().await;
        let err = resolve_org(&db.store, Role::MemberLead, Some("Nowhere Council"))
            .await
            .expect_err("no such org");
        let (lines, code) = report(&err);
        assert_eq!(code, 2);
        assert!(
            lines[0].starts_with("error: --org: no organisation"),
            "{lines:?}"
        );
    }
}
