//! The `/demo` page in headless Chromium (playwright-core driving Debian's
//! `chromium`): connect, send views over the WebSocket, see the pushed
//! recommendation, ask the support bot and see its answer; check out with
//! the payment double's test cards (one confirmed on its 3-D Secure page)
//! and see each order's steps and the customer's view live. The test saves
//! screenshots to `target/screenshots/`.

use std::path::Path;
use std::process::Command;

use serde_json::json;
use streamplug_tests::engagement::support_bot_plugin;
use streamplug_tests::orders::{CUSTOMER_VIEW, Shop};
use streamplug_tests::salesforce::Salesforce;
use streamplug_tests::{Backend, RECOMMEND_MANIFEST};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_page_shows_pushes_bot_answers_and_a_live_checkout_in_headless_chromium() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let browser_dir = root.join("tests/browser");
    assert!(
        browser_dir.join("node_modules/playwright-core").is_dir(),
        "playwright-core is not installed: run `make test` (it runs scripts/setup.sh)"
    );
    let sf = Salesforce::start().await.unwrap();
    let plugins = format!(
        "{}{RECOMMEND_MANIFEST}{}{CUSTOMER_VIEW}",
        sf.credential_toml("salesforce"),
        support_bot_plugin(&sf, 5)
    );
    let shop = Shop::start_with(Backend::Embedded, 600_000, &plugins)
        .await
        .unwrap();
    let set = json!({"type": "stock.set", "data": {"product": "tent", "quantity": 5, "price": 199.0, "currency": "EUR"}});
    assert_eq!(shop.gw.post(&set).await.unwrap().status, 202);
    shop.stock("tent", 5).await.unwrap();
    let gw = &shop.gw;
    let shots = root.join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let screenshot = shots.join("demo.png");
    let _ = std::fs::remove_file(&screenshot);
    let url = gw.url.clone();
    let out = tokio::task::spawn_blocking({
        let screenshot = screenshot.clone();
        move || {
            Command::new("node")
                .current_dir(&browser_dir)
                .args(["--test", "demo.test.mjs"])
                .env("STREAMPLUG_URL", url)
                .env("SCREENSHOT", &screenshot)
                .output()
        }
    })
    .await
    .unwrap()
    .expect("node is needed for the browser test");
    assert!(
        out.status.success(),
        "browser test failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&screenshot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "screenshot missing or empty"
    );
    shop.gw.stop().await;
}
