//! `BRAND_*`: the name, accent colour and logo reach every page, and the
//! assets are served under paths that change with their content.

use reqwest::StatusCode;

use crate::helpers::{backend_tests, Backend, TestApp};

/// `attribute="…"` of the first tag holding `marker`.
fn attribute(html: &str, marker: &str, attribute: &str) -> String {
    let at = html.find(marker).expect(marker);
    let rest = &html[at..];
    let start = rest.find(&format!("{attribute}=\"")).expect(attribute) + attribute.len() + 2;
    rest[start..].split('"').next().expect("value").to_owned()
}

async fn a_brand_reaches_the_pages_and_its_assets_are_served_by_content(backend: Backend) {
    let dir = tempfile::tempdir().expect("dir");
    let logo = dir.path().join("acme.png");
    std::fs::write(&logo, b"\x89PNG\r\n\x1a\nnot really a picture").expect("logo");
    let plain = TestApp::spawn(backend).await;
    let app = TestApp::spawn_with(
        backend,
        &[
            ("BRAND_NAME", "Acme <Corp>"),
            ("BRAND_ACCENT_COLOR", "#1a6b35"),
            ("BRAND_LOGO_FILE", logo.to_str().expect("utf-8")),
        ],
    )
    .await;
    let page = app
        .get("/account/sign-in")
        .await
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("<title>Sign in to your account · Acme &#60;Corp&#62;</title>"),
        "{page}"
    );
    assert!(!page.contains("Acme <Corp>"));
    let stylesheet = attribute(&page, "rel=\"stylesheet\"", "href");
    let logo_href = attribute(&page, "<img", "src");
    assert!(logo_href.starts_with("/assets/signet.logo.") && logo_href.ends_with(".png"));

    let css = app.get(&stylesheet).await;
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(
        css.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(css.text().await.expect("css").contains("--accent: #1a6b35"));
    let image = app.get(&logo_href).await;
    assert_eq!(image.headers()["content-type"], "image/png");
    assert_eq!(image.headers()["x-content-type-options"], "nosniff");
    assert!(image.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .contains("sandbox"));
    assert_eq!(
        image.bytes().await.expect("bytes").as_ref(),
        std::fs::read(&logo).expect("logo")
    );

    // Signet's own look is another path; neither server serves the other's.
    let plain_page = plain
        .get("/account/sign-in")
        .await
        .text()
        .await
        .expect("html");
    let plain_stylesheet = attribute(&plain_page, "rel=\"stylesheet\"", "href");
    assert_ne!(plain_stylesheet, stylesheet);
    assert!(plain_page.contains("· Signet</title>"));
    assert_eq!(
        app.get(&plain_stylesheet).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(plain.get(&logo_href).await.status(), StatusCode::NOT_FOUND);
    // An error page (rendered with no state at hand) wears the brand too.
    let error = app
        .get("/oauth/authorize")
        .await
        .text()
        .await
        .expect("html");
    assert!(error.contains("Acme &#60;Corp&#62;"), "{error}");
}

backend_tests!(a_brand_reaches_the_pages_and_its_assets_are_served_by_content);
