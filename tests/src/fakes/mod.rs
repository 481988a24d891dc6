//! Fake suppliers: real HTTP servers on loopback that behave like the
//! suppliers they imitate (rate limits, outages, conflicts, batch tracking).

pub mod wholesaler;
