//! Uploaded plugins: component bytes by sha256, the versions they declare
//! and who owns each name, the compiled artefacts this host produced, and
//! which version each binding runs (with the one before, for rollback).
//! Every activation bumps one generation row in the same transaction; that
//! row is what every `serve` process polls.

use serde::Serialize;
use sqlx::Row;

use super::{Store, StoreError, corrupt, now_ms, rfc3339};

/// One uploaded version.
#[derive(Debug, Clone, Serialize)]
pub struct PluginVersion {
    /// The plugin's name (its metadata's).
    pub name: String,
    /// Its version (its metadata's).
    pub version: String,
    /// SHA-256 of the component, hex.
    pub sha256: String,
    /// Bytes of the component.
    pub size: i64,
    /// What the plugin declares about itself.
    pub metadata: serde_json::Value,
    /// Who uploaded it.
    pub uploader: String,
    /// `accepted`, or `rejected` when it failed the conformance suite.
    pub state: String,
    /// The conformance suite's report.
    pub report: Option<serde_json::Value>,
    /// When, RFC 3339.
    pub uploaded_at: String,
}

/// A version to store.
pub struct NewPluginVersion<'a> {
    /// The plugin's name.
    pub name: &'a str,
    /// Its version.
    pub version: &'a str,
    /// SHA-256 of `bytes`, hex.
    pub sha256: &'a str,
    /// The component.
    pub bytes: &'a [u8],
    /// Its metadata as JSON.
    pub metadata: &'a serde_json::Value,
    /// Who uploads it.
    pub uploader: &'a str,
    /// `accepted` or `rejected`.
    pub state: &'a str,
    /// The conformance suite's report.
    pub report: &'a serde_json::Value,
}

/// What storing a version did.
#[derive(Debug)]
pub enum VersionInsert {
    /// Stored.
    Created(PluginVersion),
    /// The same name, version and bytes were already there.
    Existing(PluginVersion),
    /// The name and version exist with other bytes (their sha256).
    Conflict(String),
    /// The name belongs to someone else.
    NotOwner(String),
}

/// The version a binding runs, as activated.
#[derive(Debug, Clone, Serialize)]
pub struct ActivePlugin {
    /// The binding.
    pub binding: String,
    /// The plugin's name.
    pub name: String,
    /// The version it runs.
    pub version: String,
    /// The version it ran before (what a rollback returns to).
    pub previous: Option<String>,
}

const VERSION_COLUMNS: &str = "v.name, v.version, v.sha256, b.size, v.metadata, v.uploader, v.state, v.uploaded_at, v.report \
     FROM plugin_versions v JOIN plugin_blobs b ON b.sha256 = v.sha256";

impl Store {
    /// Who owns a plugin name, if it was ever uploaded.
    pub async fn plugin_owner(&self, name: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT owner FROM plugin_names WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// Versions, oldest first: of one name, or every one.
    pub async fn plugin_versions(
        &self,
        name: Option<&str>,
    ) -> Result<Vec<PluginVersion>, StoreError> {
        let rows =
            match name {
                Some(name) => sqlx::query(&format!(
                    "SELECT {VERSION_COLUMNS} WHERE v.name = $1 ORDER BY v.uploaded_at, v.version"
                ))
                .bind(name)
                .fetch_all(&self.pool)
                .await?,
                None => {
                    sqlx::query(&format!(
                        "SELECT {VERSION_COLUMNS} ORDER BY v.name, v.uploaded_at, v.version"
                    ))
                    .fetch_all(&self.pool)
                    .await?
                }
            };
        rows.iter().map(version_from_row).collect()
    }

    /// One version.
    pub async fn plugin_version(
        &self,
        name: &str,
        version: &str,
    ) -> Result<Option<PluginVersion>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {VERSION_COLUMNS} WHERE v.name = $1 AND v.version = $2"
        ))
        .bind(name)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(version_from_row).transpose()
    }

    /// The versions whose component has this sha256.
    pub async fn plugin_versions_with_sha(
        &self,
        sha256: &str,
    ) -> Result<Vec<PluginVersion>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {VERSION_COLUMNS} WHERE v.sha256 = $1"))
            .bind(sha256)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(version_from_row).collect()
    }

    /// Stores a version (its bytes once per sha256), unless its name belongs
    /// to another integrator (`owner_check`) or its name and version exist.
    /// `owner_check: None` (an operator) may add to any name.
    pub async fn insert_plugin_version(
        &self,
        new: NewPluginVersion<'_>,
        owner_check: Option<&str>,
    ) -> Result<VersionInsert, StoreError> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO plugin_names (name, owner, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(new.name)
        .bind(new.uploader)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let owner: String = sqlx::query("SELECT owner FROM plugin_names WHERE name = $1")
            .bind(new.name)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        if let Some(who) = owner_check
            && who != owner
        {
            tx.rollback().await?;
            return Ok(VersionInsert::NotOwner(owner));
        }
        let existing =
            sqlx::query("SELECT sha256 FROM plugin_versions WHERE name = $1 AND version = $2")
                .bind(new.name)
                .bind(new.version)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(row) = existing {
            let sha: String = row.try_get(0)?;
            tx.rollback().await?;
            if sha != new.sha256 {
                return Ok(VersionInsert::Conflict(sha));
            }
            let version = self
                .plugin_version(new.name, new.version)
                .await?
                .ok_or_else(|| corrupt("plugin version", "vanished"))?;
            return Ok(VersionInsert::Existing(version));
        }
        sqlx::query(
            "INSERT INTO plugin_blobs (sha256, bytes, size, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(new.sha256)
        .bind(new.bytes)
        .bind(new.bytes.len() as i64)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let inserted = sqlx::query(
            "INSERT INTO plugin_versions (name, version, sha256, metadata, uploader, state, uploaded_at, report) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (name, version) DO NOTHING",
        )
        .bind(new.name)
        .bind(new.version)
        .bind(new.sha256)
        .bind(new.metadata.to_string())
        .bind(new.uploader)
        .bind(new.state)
        .bind(now)
        .bind(new.report.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        let version = self
            .plugin_version(new.name, new.version)
            .await?
            .ok_or_else(|| corrupt("plugin version", "vanished"))?;
        // Another process stored this version between our read and write.
        if inserted == 0 {
            if version.sha256 != new.sha256 {
                return Ok(VersionInsert::Conflict(version.sha256));
            }
            return Ok(VersionInsert::Existing(version));
        }
        Ok(VersionInsert::Created(version))
    }

    /// The bytes of a component.
    pub async fn plugin_blob(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let row = sqlx::query("SELECT bytes FROM plugin_blobs WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// A compiled artefact and its own sha256, for this engine.
    pub async fn compiled_artefact(
        &self,
        sha256: &str,
        engine: &str,
    ) -> Result<Option<(Vec<u8>, String)>, StoreError> {
        let row = sqlx::query(
            "SELECT artefact, artefact_sha256 FROM compiled_artefacts WHERE sha256 = $1 AND engine = $2",
        )
        .bind(sha256)
        .bind(engine)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row
            .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?)))
            .transpose()?)
    }

    /// Keeps a compiled artefact (the first one wins: they are equal).
    pub async fn store_compiled_artefact(
        &self,
        sha256: &str,
        engine: &str,
        artefact: &[u8],
        artefact_sha256: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO compiled_artefacts (sha256, engine, artefact, artefact_sha256, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sha256, engine) DO NOTHING",
        )
        .bind(sha256)
        .bind(engine)
        .bind(artefact)
        .bind(artefact_sha256)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Which version each binding runs, where it is not the configuration's.
    pub async fn active_plugins(&self) -> Result<Vec<ActivePlugin>, StoreError> {
        let rows = sqlx::query(
            "SELECT binding, name, version, previous FROM binding_plugins ORDER BY binding",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ActivePlugin {
                    binding: r.try_get(0)?,
                    name: r.try_get(1)?,
                    version: r.try_get(2)?,
                    previous: r.try_get(3)?,
                })
            })
            .collect()
    }

    /// The activation generation: it moves with every activation.
    pub async fn plugin_generation(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query("SELECT value FROM plugin_generation WHERE id = 1")
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?,
        )
    }

    /// Makes `version` of `name` the one each of `bindings` runs; `running`
    /// gives, per binding, the version it runs now (for one never activated
    /// from here: the configuration's), which becomes its `previous`.
    pub async fn activate_plugin(
        &self,
        name: &str,
        version: &str,
        bindings: &[(String, String)],
        by: &str,
    ) -> Result<Vec<ActivePlugin>, StoreError> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let mut changed = Vec::new();
        for (binding, running) in bindings {
            let row = sqlx::query(
                "SELECT name, version, previous FROM binding_plugins WHERE binding = $1",
            )
            .bind(binding)
            .fetch_optional(&mut *tx)
            .await?;
            let (current, previous): (String, Option<String>) = match row {
                Some(r) if r.try_get::<String, _>(0)? == name => (r.try_get(1)?, r.try_get(2)?),
                _ => (running.clone(), None),
            };
            let previous = if current == version {
                previous
            } else {
                Some(current)
            };
            sqlx::query(
                "INSERT INTO binding_plugins (binding, name, version, previous, activated_by, activated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (binding) DO UPDATE SET \
                 name = excluded.name, version = excluded.version, previous = excluded.previous, \
                 activated_by = excluded.activated_by, activated_at = excluded.activated_at",
            )
            .bind(binding)
            .bind(name)
            .bind(version)
            .bind(previous.clone())
            .bind(by)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            changed.push(ActivePlugin {
                binding: binding.clone(),
                name: name.to_owned(),
                version: version.to_owned(),
                previous,
            });
        }
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(changed)
    }

    /// Swaps each binding of `name` back to its previous version (the one
    /// it leaves becomes the previous). Bindings with no previous version
    /// are left alone.
    pub async fn rollback_plugin(
        &self,
        name: &str,
        binding: Option<&str>,
        by: &str,
    ) -> Result<Vec<ActivePlugin>, StoreError> {
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(
            "SELECT binding, version, previous FROM binding_plugins \
             WHERE name = $1 AND previous IS NOT NULL ORDER BY binding",
        )
        .bind(name)
        .fetch_all(&mut *tx)
        .await?;
        let mut changed = Vec::new();
        for row in rows {
            let id: String = row.try_get(0)?;
            if binding.is_some_and(|b| b != id) {
                continue;
            }
            let version: String = row.try_get(1)?;
            let previous: String = row.try_get(2)?;
            sqlx::query(
                "UPDATE binding_plugins SET version = $1, previous = $2, activated_by = $3, \
                 activated_at = $4 WHERE binding = $5",
            )
            .bind(&previous)
            .bind(&version)
            .bind(by)
            .bind(now_ms())
            .bind(&id)
            .execute(&mut *tx)
            .await?;
            changed.push(ActivePlugin {
                binding: id,
                name: name.to_owned(),
                version: previous,
                previous: Some(version),
            });
        }
        if !changed.is_empty() {
            bump_generation(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }
}

async fn bump_generation(tx: &mut sqlx::Transaction<'static, sqlx::Any>) -> Result<(), StoreError> {
    sqlx::query("UPDATE plugin_generation SET value = value + 1 WHERE id = 1")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn version_from_row(row: &sqlx::any::AnyRow) -> Result<PluginVersion, StoreError> {
    let metadata: String = row.try_get(4)?;
    let report: Option<String> = row.try_get(8)?;
    Ok(PluginVersion {
        name: row.try_get(0)?,
        version: row.try_get(1)?,
        sha256: row.try_get(2)?,
        size: row.try_get(3)?,
        metadata: serde_json::from_str(&metadata).map_err(|e| corrupt("plugin metadata", e))?,
        uploader: row.try_get(5)?,
        state: row.try_get(6)?,
        uploaded_at: rfc3339(row.try_get(7)?),
        report: report
            .map(|r| serde_json::from_str(&r))
            .transpose()
            .map_err(|e| corrupt("conformance report", e))?,
    })
}
