//! The `/demo` page in headless Chromium (playwright-core driving Debian's
//! `chromium`): connect, send views over the WebSocket, see the pushed
//! recommendation, ask the support bot and see its answer. The test saves
//! a screenshot to `target/screenshots/`.

use std::path::Path;
use std::process::Command;

use streamplug_tests::engagement::support_bot_plugin;
use streamplug_tests::salesforce::Salesforce;
use streamplug_tests::{RECOMMEND_MANIFEST, TestGateway};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_page_shows_pushed_recommendations_and_bot_answers_in_headless_chromium() {
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
        "{}{RECOMMEND_MANIFEST}{}",
        sf.credential_toml("salesforce"),
        support_bot_plugin(&sf, 5)
    );
    let gw = TestGateway::with_plugins(&plugins).await.unwrap();
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
    gw.stop().await;
}
