//! Odoo connector (work in progress).
pub mod xmlrpc;
