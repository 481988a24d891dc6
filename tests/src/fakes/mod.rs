//! Fake suppliers: real HTTP servers on loopback that behave like the
//! suppliers they imitate (rate limits, outages, conflicts, batch tracking,
//! XML-RPC faults).

pub mod odoo;
pub mod printful;
pub mod wholesaler;
pub mod xmlrpc;
