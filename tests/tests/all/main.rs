//! Shopbridge's end-to-end tests: one binary (one link step), one module per
//! area. Guest components are real wasm components built from source; fake
//! suppliers are real HTTP servers on loopback.

mod feeds;
mod minimal;
mod odoo;
mod orders;
mod printful;
mod sandbox;
