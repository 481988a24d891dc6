//! What happened to a shop's orders, in order: the feed behind
//! `GET /v1/shops/{shop}/events?since=` and the webhooks. Events are
//! numbered per shop in commit order (see the migration), and written in the
//! same transaction as the change they report.

use serde::Serialize;
use serde_json::Value;
use sqlx::{AnyConnection, Row};

use super::{JobKind, Store, StoreError, corrupt, jobs, now_ms};

/// One event.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// Position in the shop's feed: the cursor.
    pub seq: i64,
    /// Row id (what a webhook job points at).
    #[serde(skip)]
    pub id: i64,
    /// Which shop.
    #[serde(skip)]
    pub shop: String,
    /// `supplier_order.submitted`, `supplier_order.status`, …
    pub kind: String,
    /// The shop's order reference.
    pub order_reference: String,
    /// The details.
    pub data: Value,
    /// When, RFC 3339.
    pub created_at: String,
}

/// A page of events.
#[derive(Debug, Clone, Serialize)]
pub struct EventPage {
    /// The events, oldest first.
    pub events: Vec<Event>,
    /// Pass as `since` to get what follows.
    pub next: i64,
}

/// Appends an event to `shop`'s feed, and queues its webhook when the shop
/// has a callback URL.
pub(crate) async fn append(
    conn: &mut AnyConnection,
    shop: &str,
    kind: &str,
    order_reference: &str,
    data: &Value,
    webhook: bool,
) -> Result<(), sqlx::Error> {
    let now = now_ms();
    // Taking the counter row locks it until commit: events of one shop get
    // their numbers in commit order.
    let seq: i64 = sqlx::query(
        "INSERT INTO event_counters (shop, last) VALUES ($1, 1) \
         ON CONFLICT (shop) DO UPDATE SET last = event_counters.last + 1 RETURNING last",
    )
    .bind(shop)
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?;
    let id: i64 = sqlx::query(
        "INSERT INTO events (seq, shop, kind, order_reference, payload, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(seq)
    .bind(shop)
    .bind(kind)
    .bind(order_reference)
    .bind(data.to_string())
    .bind(now)
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?;
    if webhook {
        jobs::enqueue(conn, JobKind::Webhook, &id.to_string(), now).await?;
    }
    Ok(())
}

impl Store {
    /// Events of `shop` after `since`, at most `limit`.
    pub async fn events_since(
        &self,
        shop: &str,
        since: i64,
        limit: i64,
    ) -> Result<EventPage, StoreError> {
        let rows = sqlx::query(
            "SELECT id, seq, shop, kind, order_reference, payload, created_at FROM events \
             WHERE shop = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(shop)
        .bind(since)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let events = rows
            .iter()
            .map(event_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let next = events.last().map_or(since, |e| e.seq);
        Ok(EventPage { events, next })
    }

    /// One event by row id (for its webhook).
    pub async fn event(&self, id: i64) -> Result<Option<Event>, StoreError> {
        let row = sqlx::query(
            "SELECT id, seq, shop, kind, order_reference, payload, created_at FROM events WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(event_from_row).transpose()
    }
}

fn event_from_row(row: &sqlx::any::AnyRow) -> Result<Event, StoreError> {
    let payload: String = row.try_get(5)?;
    Ok(Event {
        id: row.try_get(0)?,
        seq: row.try_get(1)?,
        shop: row.try_get(2)?,
        kind: row.try_get(3)?,
        order_reference: row.try_get(4)?,
        data: serde_json::from_str(&payload).map_err(|e| corrupt("event payload", e))?,
        created_at: rfc3339(row.try_get(6)?),
    })
}

/// Unix milliseconds as RFC 3339 (UTC).
pub(crate) fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
