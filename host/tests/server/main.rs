//! `shopbridge serve` as shops and suppliers see it: a real process, real
//! HTTP, a real database (SQLite and PostgreSQL), real plugins built from
//! source, fake suppliers and a fake shop on loopback.

/// Runs each named test function (`fn(Db)`) once on SQLite and once on
/// PostgreSQL, as `<module>::sqlite::<name>` and `<module>::postgres::<name>`.
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test] fn $name() { super::$name(super::Db::Sqlite) })*
        }
        mod postgres {
            $(#[test] fn $name() { super::$name(super::Db::Postgres) })*
        }
    };
}

mod catalog;
mod crash;
mod encodings;
mod erp;
mod flows;
mod guard;
mod hardening;
mod lifecycle;
mod money;
mod odoo_catalog;
mod php;
mod scale;
mod support;
mod tenants;
