//! `shopbridge serve` as shops and suppliers see it: a real process, real
//! HTTP, a real database (SQLite and PostgreSQL), real plugins built from
//! source, fake suppliers and a fake shop on loopback.

mod catalog;
mod crash;
mod erp;
mod flows;
mod guard;
mod lifecycle;
mod php;
mod scale;
mod support;
