//! Meetings on every backend: scheduling and the archive, the agenda in
//! order, minutes kept apart from the meeting, the outline, attendance, and
//! RSVPs with the capacity held under concurrency.

use super::{draft, t0, user};
use chrono::Duration;
use openwarp_core::meeting::{
    AgendaItemInput, MeetingDraft, MeetingInput, MinutesInput, RsvpAnswer, parse_outline,
};
use openwarp_core::{OrgId, Role, TlpLabel};
use openwarp_store::testing::all_backends;
use openwarp_store::{Store, StoreError};

pub(crate) fn meeting_draft(days_ahead: i64, capacity: &str) -> MeetingDraft {
    let start = t0() + Duration::days(days_ahead);
    MeetingInput {
        title: "SEGWARP November meeting".into(),
        starts_at: start.to_rfc3339(),
        ends_at: (start + Duration::hours(5)).to_rfc3339(),
        venue: "London".into(),
        online_url: String::new(),
        capacity: capacity.into(),
        description: "Members only.".into(),
    }
    .validate()
    .expect("valid meeting")
}

async fn org(s: &Store, name: &str) -> OrgId {
    s.create_org(&draft(name, "unitary"), t0())
        .await
        .expect("org")
        .id
}

#[tokio::test]
async fn meetings_agenda_minutes_outline_and_archive() {
    for db in all_backends().await {
        let s = &db.store;
        let op = user(s, "op@warp.example", Role::Operator, None).await;
        let past = s
            .create_meeting(&meeting_draft(-120, ""), op.id, t0())
            .await
            .unwrap();
        let next = s
            .create_meeting(&meeting_draft(30, "25"), op.id, t0())
            .await
            .unwrap();
        assert_eq!(next.capacity, Some(25));
        assert_eq!(next.going, 0);
        assert!(!next.has_minutes);

        let upcoming = s.list_meetings(false, t0(), 50).await.unwrap();
        assert_eq!(upcoming.iter().map(|m| m.id).collect::<Vec<_>>(), [next.id]);
        let archive = s.list_meetings(true, t0(), 50).await.unwrap();
        assert_eq!(archive.iter().map(|m| m.id).collect::<Vec<_>>(), [past.id]);

        // The agenda keeps its order; an item placed at 1 moves the rest down.
        for title in ["Welcome", "Cloud security"] {
            s.add_agenda_item(
                next.id,
                &AgendaItemInput {
                    title: title.into(),
                    ..Default::default()
                }
                .validate()
                .unwrap(),
                t0(),
            )
            .await
            .unwrap();
        }
        let guest = s
            .add_agenda_item(
                next.id,
                &AgendaItemInput {
                    title: "Threat briefing".into(),
                    speaker: "A. Analyst".into(),
                    organisation: "NCSC".into(),
                    presenter: "government".into(),
                    position: "1".into(),
                }
                .validate()
                .unwrap(),
                t0(),
            )
            .await
            .unwrap();
        assert_eq!(guest.position, 1);
        let agenda = s.agenda(next.id).await.unwrap();
        let titles: Vec<&str> = agenda.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(titles, ["Threat briefing", "Welcome", "Cloud security"]);
        s.delete_agenda_item(next.id, agenda[1].id).await.unwrap();
        assert_eq!(s.agenda(next.id).await.unwrap().len(), 2);
        // An item of another meeting cannot be deleted through this one.
        assert!(matches!(
            s.delete_agenda_item(past.id, agenda[0].id).await,
            Err(StoreError::NotFound(_))
        ));

        // Minutes are read on their own, with their label.
        assert_eq!(s.meeting_minutes(past.id).await.unwrap(), None);
        let minutes = MinutesInput {
            text: "Discussed PSN compliance.".into(),
            tlp: String::new(),
        }
        .validate()
        .unwrap();
        let m = s
            .set_meeting_minutes(past.id, &minutes, t0())
            .await
            .unwrap();
        assert_eq!(m.tlp, TlpLabel::Amber);
        assert!(s.meeting(past.id).await.unwrap().has_minutes);

        let topics = parse_outline("PSN compliance\nCloud security\nCyber Essentials").unwrap();
        let with_outline = s.set_meeting_outline(past.id, &topics, t0()).await.unwrap();
        assert_eq!(with_outline.topics, topics);
        let again = s
            .set_meeting_outline(past.id, &topics[..1], t0())
            .await
            .unwrap();
        assert_eq!(again.topics, ["PSN compliance"]);
        let archive = s.list_meetings(true, t0(), 50).await.unwrap();
        assert_eq!(archive[0].topics, ["PSN compliance"]);

        // Editing keeps the id; an unknown meeting is 404.
        let edited = s
            .update_meeting(next.id, &meeting_draft(31, "2"), t0())
            .await
            .unwrap();
        assert_eq!((edited.id, edited.capacity), (next.id, Some(2)));
        assert!(matches!(
            s.update_meeting(9999, &meeting_draft(31, "2"), t0()).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            s.meeting(9999).await,
            Err(StoreError::NotFound(_))
        ));
    }
}

#[tokio::test]
async fn rsvps_respect_capacity_and_start_and_attendance_is_recorded() {
    for db in all_backends().await {
        let s = &db.store;
        let op = user(s, "op@warp.example", Role::Operator, None).await;
        let kent = org(s, "Kent County Council").await;
        let a = user(s, "a@kent.gov.uk", Role::MemberUser, Some(kent)).await;
        let b = user(s, "b@kent.gov.uk", Role::MemberUser, Some(kent)).await;
        let c = user(s, "c@kent.gov.uk", Role::MemberLead, Some(kent)).await;
        let m = s
            .create_meeting(&meeting_draft(10, "2"), op.id, t0())
            .await
            .unwrap();

        let after = s
            .rsvp(m.id, a.id, RsvpAnswer::Yes, a.id, t0())
            .await
            .unwrap();
        assert_eq!(after.going, 1);
        // Saying yes again does not compete with oneself.
        s.rsvp(m.id, a.id, RsvpAnswer::Yes, a.id, t0())
            .await
            .unwrap();
        s.rsvp(m.id, b.id, RsvpAnswer::Yes, c.id, t0())
            .await
            .unwrap();
        let full = s.rsvp(m.id, c.id, RsvpAnswer::Yes, c.id, t0()).await;
        match full {
            Err(StoreError::Conflict(msg)) => assert!(msg.contains("full"), "{msg}"),
            other => panic!("expected the meeting to be full: {other:?}"),
        }
        assert_eq!(s.rsvp_of(m.id, c.id).await.unwrap(), None, "nothing stored");
        // Maybe is always possible, and a place freed can be taken.
        s.rsvp(m.id, c.id, RsvpAnswer::Maybe, c.id, t0())
            .await
            .unwrap();
        s.rsvp(m.id, a.id, RsvpAnswer::No, a.id, t0())
            .await
            .unwrap();
        let m2 = s
            .rsvp(m.id, c.id, RsvpAnswer::Yes, c.id, t0())
            .await
            .unwrap();
        assert_eq!(m2.going, 2);
        let rsvps = s.meeting_rsvps(m.id).await.unwrap();
        assert_eq!(rsvps.len(), 3);
        assert!(
            rsvps
                .iter()
                .all(|r| r.org_name.as_deref() == Some("Kent County Council"))
        );

        // Once the meeting has started, answers are closed.
        let started = m.starts_at + Duration::minutes(1);
        match s.rsvp(m.id, a.id, RsvpAnswer::Maybe, a.id, started).await {
            Err(StoreError::Conflict(msg)) => assert!(msg.contains("started"), "{msg}"),
            other => panic!("expected a refusal: {other:?}"),
        }
        assert_eq!(s.rsvp_of(m.id, a.id).await.unwrap(), Some(RsvpAnswer::No));
        assert!(matches!(
            s.rsvp(424242, a.id, RsvpAnswer::Yes, a.id, t0()).await,
            Err(StoreError::NotFound(_))
        ));

        let attended = s
            .record_attendance(m.id, &[a.id, c.id], op.id, started)
            .await
            .unwrap();
        assert_eq!(attended.len(), 2);
        let attended = s
            .record_attendance(m.id, &[b.id], op.id, started)
            .await
            .unwrap();
        assert_eq!(
            attended.iter().map(|x| x.user_id).collect::<Vec<_>>(),
            [b.id.0]
        );
        // Operators are not members: refused, and the record is unchanged.
        assert!(
            s.record_attendance(m.id, &[op.id], op.id, started)
                .await
                .is_err()
        );
        assert_eq!(s.meeting_attendance(m.id).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn concurrent_yes_answers_never_exceed_capacity() {
    for db in all_backends().await {
        let s = &db.store;
        let op = user(s, "op@warp.example", Role::Operator, None).await;
        let kent = org(s, "Kent County Council").await;
        let mut users = Vec::new();
        for i in 0..8 {
            users.push(
                user(
                    s,
                    &format!("u{i}@kent.gov.uk"),
                    Role::MemberUser,
                    Some(kent),
                )
                .await,
            );
        }
        let m = s
            .create_meeting(&meeting_draft(10, "3"), op.id, t0())
            .await
            .unwrap();
        let tasks: Vec<_> = users
            .iter()
            .map(|u| {
                let s = s.clone();
                let (id, uid) = (m.id, u.id);
                tokio::spawn(async move { s.rsvp(id, uid, RsvpAnswer::Yes, uid, t0()).await })
            })
            .collect();
        let mut accepted = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => accepted += 1,
                Err(StoreError::Conflict(msg)) => assert!(msg.contains("full"), "{msg}"),
                Err(e) => panic!("{} : unexpected {e}", db.backend().name()),
            }
        }
        assert_eq!(accepted, 3, "{}", db.backend().name());
        assert_eq!(s.meeting(m.id).await.unwrap().going, 3);
    }
}

#[tokio::test]
async fn reminders_go_once_to_those_who_said_yes_a_day_before() {
    for db in all_backends().await {
        let s = &db.store;
        let op = user(s, "op@warp.example", Role::Operator, None).await;
        let kent = org(s, "Kent County Council").await;
        let yes = user(s, "yes@kent.gov.uk", Role::MemberUser, Some(kent)).await;
        let maybe = user(s, "maybe@kent.gov.uk", Role::MemberUser, Some(kent)).await;
        user(s, "silent@kent.gov.uk", Role::MemberLead, Some(kent)).await;
        let m = s
            .create_meeting(&meeting_draft(3, ""), op.id, t0())
            .await
            .unwrap();
        s.rsvp(m.id, yes.id, RsvpAnswer::Yes, yes.id, t0())
            .await
            .unwrap();
        s.rsvp(m.id, maybe.id, RsvpAnswer::Maybe, maybe.id, t0())
            .await
            .unwrap();

        // Two days before: nothing yet.
        assert_eq!(
            s.queue_meeting_reminders(m.starts_at - Duration::hours(48))
                .await
                .unwrap(),
            0
        );
        let day_before = m.starts_at - Duration::hours(20);
        assert_eq!(s.queue_meeting_reminders(day_before).await.unwrap(), 1);
        assert_eq!(
            s.queue_meeting_reminders(day_before).await.unwrap(),
            0,
            "raised once"
        );
        let alerts = s.alerts_for_org(kent, 10).await.unwrap();
        assert_eq!(alerts.len(), 1);
        assert!(
            alerts[0].title.contains("starts tomorrow"),
            "{}",
            alerts[0].title
        );
        assert_eq!(alerts[0].content.path, format!("/meetings/{}", m.id));
        let deliveries = s
            .deliveries(&openwarp_store::DeliveryFilter {
                alert_id: Some(alerts[0].id),
                ..Default::default()
            })
            .await
            .unwrap();
        let to: Vec<&str> = deliveries.iter().map(|d| d.recipient.as_str()).collect();
        assert_eq!(
            to,
            ["yes@kent.gov.uk"],
            "only the yes, whatever the org's alert settings"
        );
        // After the start, nothing more.
        assert_eq!(
            s.queue_meeting_reminders(m.starts_at + Duration::hours(1))
                .await
                .unwrap(),
            0
        );
    }
}
