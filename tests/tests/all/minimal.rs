//! The minimal component (no std, no WASI, the call-overhead benchmark's
//! subject) fits the contract: the host loads it, it answers `describe`
//! through a fresh sandbox, and everything else answers `unsupported`.

use shopbridge::plugins::CallOptions;
use shopbridge::runtime::bindings::shopbridge::connector::types::{
    Capability, FeedError, OrderError,
};
use shopbridge_tests::{block_on, components, plugin, runtime};

#[test]
fn the_minimal_component_loads_and_answers_describe_through_the_host() {
    block_on(async {
        let minimal = plugin(components::MINIMAL).await;
        assert_eq!(minimal.name(), "minimal");
        // Nothing but the contract's own types: no WASI at all.
        let imports = &minimal.report().imports;
        assert!(
            imports
                .iter()
                .all(|i| i.starts_with("shopbridge:connector/types@0.1.")),
            "{imports:?}"
        );

        let options = CallOptions::default();
        for _ in 0..3 {
            let metadata = minimal
                .describe(runtime(), &options)
                .await
                .expect("describe runs");
            assert_eq!(metadata.name, "minimal");
            assert_eq!(metadata.version, "0.1.0");
            assert_eq!(metadata.capabilities, [Capability::Catalog]);
            assert!(metadata.hosts.is_empty() && metadata.settings.is_empty());
        }

        let opened = minimal
            .open_feed(runtime(), &options, None)
            .await
            .expect("instantiates");
        assert!(matches!(opened, Err(FeedError::Unsupported)));
        let order = shopbridge_tests::sample_order("min-1", &["A"]);
        let checked = minimal
            .check_order(runtime(), &options, &order)
            .await
            .expect("runs");
        assert!(
            matches!(checked, Err(OrderError::Unsupported)),
            "{checked:?}"
        );
    });
}
