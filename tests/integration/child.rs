//! The entry of a gateway run in a child process ([`ChildGateway`]); it
//! does nothing when run as a test.
//!
//! [`ChildGateway`]: streamplug_tests::ChildGateway

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the gateway of a child process, started by ChildGateway"]
async fn gateway_serves_until_killed() {
    streamplug_tests::serve_if_child().await.unwrap();
}
