//! Where alerts stand, for the pages and API that show them: how many of each
//! alert's deliveries are sent, pending or dead, and one delivery by id (for
//! an operator's retry). The outbox itself lives in [`crate::alerts`].

use crate::{DeliveryCounts, DeliveryRow, Result, Store, on_pool};
use std::collections::HashMap;

impl Store {
    /// Delivery counts by status for each of these alerts (its own
    /// deliveries; digests that list it are counted as digests). Alerts
    /// without deliveries are absent from the map.
    pub async fn delivery_counts_by_alert(
        &self,
        alert_ids: &[i64],
    ) -> Result<HashMap<i64, DeliveryCounts>> {
        let mut out: HashMap<i64, DeliveryCounts> = HashMap::new();
        for chunk in alert_ids.chunks(400) {
            let rows: Vec<(i64, String, i64)> = on_pool!(self, |p| {
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT alert_id, status, COUNT(*) FROM deliveries WHERE alert_id",
                );
                crate::exposures::push_in(&mut qb, chunk.iter().copied());
                qb.push(" GROUP BY alert_id, status");
                qb.build_query_as().fetch_all(p).await
            })?;
            for (alert, status, n) in rows {
                let c = out.entry(alert).or_default();
                match status.as_str() {
                    "pending" => c.pending = n,
                    "sent" => c.sent = n,
                    "dead" => c.dead = n,
                    _ => {}
                }
            }
        }
        Ok(out)
    }

    /// One delivery as operators see it.
    pub async fn delivery(&self, id: i64) -> Result<Option<DeliveryRow>> {
        on_pool!(self, |p| {
            Ok(sqlx::query_as(
                "SELECT d.id, d.idempotency_key, d.kind, d.channel, d.org_id, o.name AS org_name, d.alert_id, \
                 a.title AS alert_title, COALESCE(u.email, w.name, '') AS recipient, d.status, d.attempts, \
                 d.next_attempt_at, d.last_error, d.created_at, d.sent_at \
                 FROM deliveries d JOIN organisations o ON o.id = d.org_id \
                 LEFT JOIN alerts a ON a.id = d.alert_id LEFT JOIN users u ON u.id = d.user_id \
                 LEFT JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = $1",
            )
            .bind(id)
            .fetch_optional(p)
            .await?)
        })
    }
}
