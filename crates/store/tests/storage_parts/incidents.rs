//! Incidents on every backend: unguessable ids, shared-supplier warnings
//! that do not name the reporter, the timeline, sharing states, lessons and
//! the access log, and evidence files.

use super::{draft, t0, user};
use chrono::Duration;
use openwarp_core::incident::{IncidentInput, SanitisedInput, SharingState};
use openwarp_core::{Role, SupplierDraft, SupplierKind, TlpLabel};
use openwarp_store::testing::all_backends;
use openwarp_store::{AlertKind, DeliveryFilter, IncidentFilter, NewAttachment, StoreError};

fn report(supplier: &str, status: &str) -> openwarp_core::incident::IncidentDraft {
    IncidentInput {
        title: "Ransomware via our managed service provider".into(),
        summary: "File servers encrypted after the provider's remote tool was abused.".into(),
        category: "supplier_compromise".into(),
        started_at: "2026-11-22T22:15".into(),
        detected_at: "2026-11-23T07:40".into(),
        affected_services: "Revenues and benefits".into(),
        supplier: supplier.into(),
        personal_data: true,
        status: status.into(),
        indicators: vec!["203.0.113.7\nevil-payroll.example".into()],
        tlp: "amber".into(),
    }
    .validate(t0())
    .expect("valid report")
}

fn supplier(name: &str) -> SupplierDraft {
    SupplierDraft {
        name: name.into(),
        kind: SupplierKind::ItProvider,
        services: None,
        contact: None,
        notes: None,
    }
}

#[tokio::test]
async fn a_report_naming_a_supplier_warns_its_other_users_anonymously_at_once() {
    for db in all_backends().await {
        let s = &db.store;
        let name = db.backend().name();
        let dover = s
            .create_org(&draft("Dover District Council", "district_borough"), t0())
            .await
            .expect("org")
            .id;
        let ashford = s
            .create_org(&draft("Ashford Borough Council", "district_borough"), t0())
            .await
            .expect("org")
            .id;
        let kent = s
            .create_org(&draft("Kent County Council", "county"), t0())
            .await
            .expect("org")
            .id;
        let reporter = user(s, "it@dover.gov.uk", Role::MemberUser, Some(dover)).await;
        user(s, "lead@ashford.gov.uk", Role::MemberLead, Some(ashford)).await;
        user(s, "lead@kent.gov.uk", Role::MemberLead, Some(kent)).await;
        for org in [dover, ashford] {
            s.add_supplier(org, &supplier("Mid Kent ICT Ltd"), t0())
                .await
                .expect("supplier");
        }
        s.add_supplier(kent, &supplier("Another Provider"), t0())
            .await
            .expect("supplier");

        let inc = s
            .create_incident(
                dover,
                reporter.id,
                &report("MID KENT ICT", ""),
                "the South East",
                t0(),
            )
            .await
            .expect("report");
        assert!(
            inc.public_id.starts_with("inc-") && inc.public_id.len() == 26,
            "{}",
            inc.public_id
        );
        assert_eq!(inc.sharing, SharingState::Private);
        assert_eq!(inc.report.indicators.len(), 2);

        // Ashford uses the same supplier (named differently): warned, at
        // once (a P1 delivery queued), without Dover's name.
        let warned = s.alerts_for_org(ashford, 10).await.expect("alerts");
        assert_eq!(warned.len(), 1, "{name}");
        let w = &warned[0];
        assert_eq!((w.kind, w.tlp), (AlertKind::Warp, TlpLabel::Amber));
        assert_eq!(
            w.title,
            "Supplier warning: supplier compromise incident involving MID KENT ICT"
        );
        assert!(
            w.content
                .summary
                .starts_with("A district or borough council in the South East has reported"),
            "{}",
            w.content.summary
        );
        assert!(!w.content.summary.contains("Dover") && !w.title.contains("Dover"));
        let d = s
            .deliveries(&DeliveryFilter {
                org: Some(ashford),
                ..DeliveryFilter::default()
            })
            .await
            .expect("deliveries");
        assert_eq!(d.len(), 1, "{name}: the lead, at once");
        // Kent uses another supplier; Dover is not warned about itself.
        assert!(s.alerts_for_org(kent, 10).await.expect("alerts").is_empty());
        assert!(
            s.alerts_for_org(dover, 10)
                .await
                .expect("alerts")
                .is_empty()
        );
        // Operators see the correlation.
        let corr = s
            .incident_supplier_warnings(&inc.public_id)
            .await
            .expect("warnings");
        assert_eq!(corr.len(), 1);
        assert_eq!(corr[0].org_name, "Ashford Borough Council");

        // Updating without changing the supplier warns nobody again.
        let t1 = t0() + Duration::hours(2);
        let inc = s
            .update_incident(
                &inc.public_id,
                &report("Mid Kent ICT", "contained"),
                reporter.id,
                "the South East",
                t1,
            )
            .await
            .expect("update");
        assert_eq!(
            s.alerts_for_org(ashford, 10).await.expect("alerts").len(),
            1
        );
        let timeline = s.incident_timeline(&inc.public_id).await.expect("timeline");
        let kinds: Vec<&str> = timeline.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["reported", "warning", "status"], "{name}");
        assert!(
            timeline[2]
                .detail
                .starts_with("Status: Open: being handled → Contained")
        );

        // Lists: Dover's own; others see nothing until it is shared.
        let own = s
            .incidents(&IncidentFilter {
                org: Some(dover),
                ..IncidentFilter::default()
            })
            .await
            .expect("list");
        assert_eq!(own.len(), 1);
        let shared = s
            .incidents(&IncidentFilter {
                org: Some(ashford),
                include_shared: true,
                ..IncidentFilter::default()
            })
            .await
            .expect("list");
        assert!(shared.is_empty(), "{name}: nothing leaves the room unasked");
        assert!(
            s.incident("inc-doesnotexist0000000000")
                .await
                .expect("get")
                .is_none()
        );
    }
}

#[tokio::test]
async fn sharing_moves_through_proposal_approval_and_withdrawal() {
    for db in all_backends().await {
        let s = &db.store;
        let dover = s
            .create_org(&draft("Dover District Council", "district_borough"), t0())
            .await
            .expect("org")
            .id;
        let medway = s
            .create_org(&draft("Medway Council", "unitary"), t0())
            .await
            .expect("org")
            .id;
        let reporter = user(s, "it@dover.gov.uk", Role::MemberUser, Some(dover)).await;
        let op = user(s, "op@warp.example", Role::Operator, None).await;
        let inc = s
            .create_incident(dover, reporter.id, &report("", ""), "the South East", t0())
            .await
            .expect("report");
        let v = SanitisedInput {
            title: "Ransomware through a managed service provider".into(),
            summary: "A member's file servers were encrypted via a provider's remote tool.".into(),
            tlp: "amber".into(),
            recipient_orgs: vec![medway.0],
            share_indicators: true,
            ..SanitisedInput::default()
        }
        .validate()
        .expect("valid");
        // An operator proposes: not shared yet.
        let p = s
            .set_sanitised_version(&inc.public_id, &v, false, op.id, t0())
            .await
            .expect("propose");
        assert_eq!(p.sharing, SharingState::Proposed);
        assert_eq!(p.facts().recipient_orgs, vec![medway]);
        let listed = s
            .incidents(&IncidentFilter {
                org: Some(medway),
                include_shared: true,
                ..IncidentFilter::default()
            })
            .await
            .expect("list");
        assert!(listed.is_empty());
        // The reporter approves: shared.
        let a = s
            .approve_sanitised_version(&inc.public_id, reporter.id, t0())
            .await
            .expect("approve");
        assert_eq!(a.sharing, SharingState::Shared);
        assert_eq!(
            a.attribution("the South East"),
            "a district or borough council in the South East"
        );
        assert!(matches!(
            s.approve_sanitised_version(&inc.public_id, reporter.id, t0())
                .await,
            Err(StoreError::Conflict(_))
        ));
        let listed = s
            .incidents(&IncidentFilter {
                org: Some(medway),
                include_shared: true,
                ..IncidentFilter::default()
            })
            .await
            .expect("list");
        assert_eq!(listed.len(), 1);
        // Withdrawn: private again.
        let w = s
            .withdraw_sharing(&inc.public_id, reporter.id, t0())
            .await
            .expect("withdraw");
        assert_eq!(w.sharing, SharingState::Private);
        assert!(w.shared.is_none());

        // Lessons only once closed; then shared with every member.
        assert!(matches!(
            s.set_lessons(
                &inc.public_id,
                "Restrict the provider's remote tool.",
                true,
                reporter.id,
                t0()
            )
            .await,
            Err(StoreError::Conflict(_))
        ));
        s.update_incident(
            &inc.public_id,
            &report("", "closed"),
            reporter.id,
            "x",
            t0(),
        )
        .await
        .expect("close");
        let l = s
            .set_lessons(
                &inc.public_id,
                "Restrict the provider's remote tool.",
                true,
                reporter.id,
                t0(),
            )
            .await
            .expect("lessons");
        assert!(l.lessons_shared && l.closed_at.is_some());

        // ICO and escalation records, and the access log.
        s.record_ico_notification(
            &inc.public_id,
            t0(),
            "online form",
            Some("ICO/123"),
            reporter.id,
            t0(),
        )
        .await
        .expect("ico");
        s.log_incident_event(
            &inc.public_id,
            "escalation",
            Some(openwarp_core::incident::EscalationTarget::Ncsc),
            Some("NCSC-2026-0042"),
            "Reported to NCSC",
            t0(),
            op.id,
            t0(),
        )
        .await
        .expect("escalation");
        let inc = s
            .incident(&inc.public_id)
            .await
            .expect("get")
            .expect("there");
        assert_eq!(inc.ico_reference.as_deref(), Some("ICO/123"));
        s.log_incident_access(
            &inc,
            Some(op.id),
            "op@warp.example",
            "read",
            "full",
            Some("127.0.0.1"),
            t0(),
        )
        .await
        .expect("log");
        let log = s.incident_access_log(&inc.public_id).await.expect("log");
        assert_eq!(
            (log[0].action.as_str(), log[0].view.as_str()),
            ("read", "full")
        );
        let timeline = s.incident_timeline(&inc.public_id).await.expect("timeline");
        assert!(timeline.iter().any(|e| e.kind == "escalation"
            && e.target.as_deref() == Some("ncsc")
            && e.reference.as_deref() == Some("NCSC-2026-0042")));
        assert!(timeline.iter().any(|e| e.kind == "ico"));
    }
}

#[tokio::test]
async fn the_ico_reminder_comes_once_when_less_than_a_day_is_left() {
    for db in all_backends().await {
        let s = &db.store;
        let name = db.backend().name();
        let dover = s
            .create_org(&draft("Dover District Council", "district_borough"), t0())
            .await
            .expect("org")
            .id;
        let reporter = user(s, "it@dover.gov.uk", Role::MemberUser, Some(dover)).await;
        // Detected at 07:40 on 23 November: the 72 hours end 07:40 on the 26th.
        let inc = s
            .create_incident(dover, reporter.id, &report("", ""), "x", t0())
            .await
            .expect("report");
        let detected = inc.report.detected_at;
        assert_eq!(
            s.queue_ico_reminders(detected + Duration::hours(47))
                .await
                .expect("early"),
            0
        );
        assert_eq!(
            s.queue_ico_reminders(detected + Duration::hours(49))
                .await
                .expect("due"),
            1,
            "{name}"
        );
        assert_eq!(
            s.queue_ico_reminders(detected + Duration::hours(50))
                .await
                .expect("again"),
            0
        );
        let a = &s.alerts_for_org(dover, 10).await.expect("alerts")[0];
        assert_eq!(a.content.path, format!("/incidents/{}", inc.public_id));
        assert!(
            !a.title.contains("Ransomware"),
            "names no detail of the report"
        );
        // Notified: no reminder for another incident once recorded.
        let other = s
            .create_incident(dover, reporter.id, &report("", ""), "x", t0())
            .await
            .expect("report");
        s.record_ico_notification(&other.public_id, t0(), "phone", None, reporter.id, t0())
            .await
            .expect("ico");
        assert_eq!(
            s.queue_ico_reminders(detected + Duration::hours(51))
                .await
                .expect("none"),
            0
        );
        assert_eq!(
            s.queue_ico_reminders(detected + Duration::hours(73))
                .await
                .expect("past"),
            0
        );
    }
}

#[tokio::test]
async fn evidence_files_belong_to_their_incident_and_leave_a_trace() {
    for db in all_backends().await {
        let s = &db.store;
        let name = db.backend().name();
        let dover = s
            .create_org(&draft("Dover District Council", "district_borough"), t0())
            .await
            .expect("org")
            .id;
        let reporter = user(s, "it@dover.gov.uk", Role::MemberUser, Some(dover)).await;
        let new = |title: &'static str| {
            let mut r = report("", "open");
            r.title = title.into();
            r
        };
        let inc = s
            .create_incident(dover, reporter.id, &new("Phishing"), "the South East", t0())
            .await
            .expect("report");
        let other = s
            .create_incident(dover, reporter.id, &new("Another"), "the South East", t0())
            .await
            .expect("report");

        // Bytes that are not UTF-8 come back exactly.
        let eml: Vec<u8> =
            b"From: payroll@evil.example\r\nSubject: Invoice\r\n\r\n\xff\x00\xfe".to_vec();
        let t1 = t0() + Duration::minutes(5);
        let a = s
            .add_incident_attachment(
                &inc.public_id,
                NewAttachment {
                    file_name: "Invoice overdue.eml",
                    content_type: "message/rfc822",
                    data: &eml,
                },
                reporter.id,
                t1,
            )
            .await
            .expect("attach");
        assert!(
            a.public_id.starts_with("att-") && a.public_id.len() == 26,
            "{}",
            a.public_id
        );
        assert_eq!(a.size, eml.len() as i64);
        assert_eq!(a.sha256.len(), 64);
        assert_eq!(a.uploader_name.as_deref(), Some("it"));
        assert_eq!(a.uploaded_at, t1);
        let png = s
            .add_incident_attachment(
                &inc.public_id,
                NewAttachment {
                    file_name: "screenshot.png",
                    content_type: "image/png",
                    data: &[0x89, b'P', b'N', b'G'],
                },
                reporter.id,
                t1 + Duration::minutes(1),
            )
            .await
            .expect("attach");
        assert_ne!(a.public_id, png.public_id);
        // An empty file is refused, and nothing is written.
        assert!(matches!(
            s.add_incident_attachment(
                &inc.public_id,
                NewAttachment {
                    file_name: "empty.txt",
                    content_type: "text/plain",
                    data: &[],
                },
                reporter.id,
                t1,
            )
            .await,
            Err(StoreError::Conflict(_))
        ));

        // Listed oldest first, without bytes; read back with them.
        let list = s.incident_attachments(&inc.public_id).await.expect("list");
        assert_eq!(list, [a.clone(), png.clone()], "{name}");
        let file = s
            .incident_attachment(&inc.public_id, &a.public_id)
            .await
            .expect("get")
            .expect("there");
        assert_eq!(file.data, eml, "{name}");
        assert_eq!(file.attachment, a);
        // Only through its own incident.
        assert!(
            s.incident_attachment(&other.public_id, &a.public_id)
                .await
                .expect("get")
                .is_none()
        );
        assert!(
            s.incident_attachments(&other.public_id)
                .await
                .expect("list")
                .is_empty()
        );
        assert!(matches!(
            s.delete_incident_attachment(&other.public_id, &a.public_id, reporter.id, t1)
                .await,
            Err(StoreError::NotFound("attachment"))
        ));

        // Deleting removes it, and the timeline keeps both steps.
        let t2 = t1 + Duration::hours(1);
        let gone = s
            .delete_incident_attachment(&inc.public_id, &a.public_id, reporter.id, t2)
            .await
            .expect("delete");
        assert_eq!(gone.public_id, a.public_id);
        assert!(
            s.incident_attachment(&inc.public_id, &a.public_id)
                .await
                .expect("get")
                .is_none()
        );
        assert!(matches!(
            s.delete_incident_attachment(&inc.public_id, &a.public_id, reporter.id, t2)
                .await,
            Err(StoreError::NotFound("attachment"))
        ));
        assert_eq!(
            s.incident_attachments(&inc.public_id).await.expect("list"),
            [png]
        );
        let details: Vec<String> = s
            .incident_timeline(&inc.public_id)
            .await
            .expect("timeline")
            .into_iter()
            .filter(|e| e.detail.starts_with("Attachment"))
            .map(|e| e.detail)
            .collect();
        assert_eq!(
            details,
            [
                "Attachment added: Invoice overdue.eml (51 bytes)",
                "Attachment added: screenshot.png (4 bytes)",
                "Attachment deleted: Invoice overdue.eml (51 bytes)",
            ],
            "{name}"
        );
        assert_eq!(
            s.incident(&inc.public_id)
                .await
                .expect("get")
                .expect("there")
                .updated_at,
            t2
        );
        // Unknown incidents are not found.
        assert!(matches!(
            s.incident_attachments("inc-doesnotexist0000000000").await,
            Err(StoreError::NotFound("incident"))
        ));
    }
}
