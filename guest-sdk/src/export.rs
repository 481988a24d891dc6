//! Glue between the generated export traits and [`crate::Connector`].
//! Used only by [`crate::export_connector!`].

use std::cell::RefCell;
use std::marker::PhantomData;

use crate::bindings::exports::shopbridge::connector::{catalog, orders, plugin, status};
use crate::{Connector, FeedError, FeedParse, FeedRecord};

/// The type the export macro hands to the generated bindings.
pub struct Exported<C>(PhantomData<C>);

/// The `feed-parser` resource: a boxed parser behind a `RefCell`, because
/// resource methods take `&self`.
pub struct FeedParserResource<C> {
    inner: RefCell<Box<dyn FeedParse>>,
    _connector: PhantomData<C>,
}

impl<C: Connector> plugin::Guest for Exported<C> {
    fn describe() -> crate::Metadata {
        C::metadata()
    }
}

impl<C: Connector> catalog::Guest for Exported<C> {
    type FeedParser = FeedParserResource<C>;
}

impl<C: Connector> catalog::GuestFeedParser for FeedParserResource<C> {
    fn open(content_type: Option<String>) -> Result<catalog::FeedParser, FeedError> {
        let parser = C::open_feed(content_type)?;
        Ok(catalog::FeedParser::new(FeedParserResource::<C> {
            inner: RefCell::new(parser),
            _connector: PhantomData,
        }))
    }

    fn push(&self, chunk: Vec<u8>) -> Result<Vec<FeedRecord>, FeedError> {
        self.inner.borrow_mut().push(&chunk)
    }

    fn finish(&self) -> Result<Vec<FeedRecord>, FeedError> {
        self.inner.borrow_mut().finish()
    }
}

impl<C: Connector> orders::Guest for Exported<C> {
    fn check_order(order: crate::Order) -> Result<(), crate::OrderError> {
        C::check_order(order)
    }

    fn submit_order(order: crate::Order) -> Result<crate::Submission, crate::OrderError> {
        C::submit_order(order)
    }

    fn cancel_order(
        supplier_reference: String,
        reason: Option<String>,
    ) -> Result<(), crate::OrderError> {
        C::cancel_order(supplier_reference, reason)
    }
}

impl<C: Connector> status::Guest for Exported<C> {
    fn poll_status(
        supplier_references: Vec<String>,
    ) -> Result<Vec<crate::StatusUpdate>, crate::OrderError> {
        C::poll_status(supplier_references)
    }
}
