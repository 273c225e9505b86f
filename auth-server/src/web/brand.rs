//! How the pages look: the name, the accent colour and the logo
//! (`BRAND_*`), made once at start-up into the one stylesheet and the logo
//! the pages link to. Both are served under a path holding a hash of their
//! content, so browsers keep them for a year and a new look is a new path.
//!
//! The pages of one request read the brand from a task-local set by
//! [`scope`] (a middleware on the whole router), so `error_page` and the
//! other page helpers need no state argument and two servers in one process
//! (the tests) keep their own brands.

use std::path::Path;
use std::sync::{Arc, LazyLock};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::config::{contrast, BrandSettings};

/// Signet's own look; the accent of the light theme is this colour.
const BASE_STYLESHEET: &str = signet_service::web::STYLESHEET;
/// Signet's mark, shown when no `BRAND_LOGO_FILE` is set.
/// The pages' one script: passkeys (WebAuthn needs the browser API).
const PASSKEY_SCRIPT: &str = include_str!("../../assets/passkeys.js");
const DEFAULT_LOGO: &[u8] = include_bytes!("../../assets/signet-mark.svg");
/// The largest logo accepted: it is sent with every page view.
pub const MAX_LOGO_BYTES: usize = 256 * 1024;
/// The dark theme's card, on which the dark accent must reach 4.5:1.
const DARK_CARD: [u8; 3] = [0x1c, 0x1f, 0x27];
/// The text on dark-theme buttons.
const DARK_ACCENT_TEXT: [u8; 3] = [0x0d, 0x12, 0x20];

/// The look of every page.
#[derive(Debug)]
pub struct Brand {
    pub name: String,
    stylesheet: String,
    /// `/assets/signet.<hash>.css`.
    pub stylesheet_href: String,
    /// `/assets/signet.passkeys.<hash>.js`.
    pub script_href: String,
    logo: Vec<u8>,
    logo_type: &'static str,
    /// `/assets/signet.logo.<hash>.<ext>`.
    pub logo_href: String,
}

/// Why the brand could not be made; each names its variable.
#[derive(Debug, thiserror::Error)]
pub enum BrandError {
    #[error("BRAND_LOGO_FILE: cannot read {path}: {source}")]
    Unreadable {
        path: String,
        source: std::io::Error,
    },
    #[error("BRAND_LOGO_FILE: {0}")]
    Invalid(&'static str),
}

/// FNV-1a 64, in 12 hex digits: a cache key, not a security check.
fn content_hash(bytes: &[u8]) -> String {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{:012x}", hash >> 16)
}

fn hex(rgb: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2])
}

/// `rgb` mixed towards white until it reaches 4.5:1 on the dark card and
/// with the dark button text: the accent as the dark theme shows it.
fn dark_variant(rgb: [u8; 3]) -> [u8; 3] {
    let mix = |step: u32| {
        rgb.map(|c| {
            let c = u32::from(c);
            (c + (255 - c) * step / 20) as u8
        })
    };
    (0..=20)
        .map(mix)
        .find(|c| contrast(*c, DARK_CARD) >= 4.5 && contrast(*c, DARK_ACCENT_TEXT) >= 4.5)
        .unwrap_or([0xff, 0xff, 0xff])
}

/// The stylesheet with `accent` in place of Signet's blue.
fn stylesheet(accent: Option<[u8; 3]>) -> String {
    let Some(accent) = accent else {
        return BASE_STYLESHEET.to_owned();
    };
    let dark = dark_variant(accent);
    // White text on the accent: BRAND_ACCENT_COLOR is refused unless it
    // reaches 4.5:1 on white, which is the same pair.
    format!(
        "{BASE_STYLESHEET}\n/* BRAND_ACCENT_COLOR */\n:root {{ --accent: {a}; --accent-text: #ffffff; --focus: {a}; }}\n\
         @media (prefers-color-scheme: dark) {{ :root {{ --accent: {d}; --accent-text: {t}; --focus: {d}; }} }}\n",
        a = hex(accent),
        d = hex(dark),
        t = hex(DARK_ACCENT_TEXT),
    )
}

/// The content type a logo file's name and first bytes agree on.
fn logo_type(path: &Path, bytes: &[u8]) -> Result<(&'static str, &'static str), BrandError> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let (kind, ext, looks_right) = match extension.as_str() {
        "svg" => (
            "image/svg+xml",
            "svg",
            std::str::from_utf8(bytes).is_ok_and(|text| text.contains("<svg")),
        ),
        "png" => ("image/png", "png", bytes.starts_with(b"\x89PNG\r\n\x1a\n")),
        "jpg" | "jpeg" => ("image/jpeg", "jpg", bytes.starts_with(&[0xff, 0xd8, 0xff])),
        "webp" => (
            "image/webp",
            "webp",
            bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP",
        ),
        _ => {
            return Err(BrandError::Invalid(
                "must be an .svg, .png, .jpg or .webp file",
            ))
        }
    };
    if !looks_right {
        return Err(BrandError::Invalid(
            "its content does not match its file name's image type",
        ));
    }
    Ok((kind, ext))
}

impl Brand {
    /// The brand `settings` describe, reading the logo file.
    pub fn load(settings: &BrandSettings) -> Result<Self, BrandError> {
        let (logo, logo_type, ext) = match &settings.logo_file {
            None => (DEFAULT_LOGO.to_vec(), "image/svg+xml", "svg"),
            Some(path) => {
                let bytes = std::fs::read(path).map_err(|source| BrandError::Unreadable {
                    path: path.display().to_string(),
                    source,
                })?;
                if bytes.is_empty() || bytes.len() > MAX_LOGO_BYTES {
                    return Err(BrandError::Invalid("must hold 1 byte to 256 KiB"));
                }
                let (kind, ext) = logo_type(path, &bytes)?;
                (bytes, kind, ext)
            }
        };
        let stylesheet = stylesheet(settings.accent);
        Ok(Self {
            name: settings.name.clone(),
            stylesheet_href: format!("/assets/signet.{}.css", content_hash(stylesheet.as_bytes())),
            stylesheet,
            script_href: format!(
                "/assets/signet.passkeys.{}.js",
                content_hash(PASSKEY_SCRIPT.as_bytes())
            ),
            logo_href: format!("/assets/signet.logo.{}.{ext}", content_hash(&logo)),
            logo,
            logo_type,
        })
    }
}

/// Signet's own look, for a page rendered outside any request.
static DEFAULT: LazyLock<Arc<Brand>> = LazyLock::new(|| {
    Arc::new(
        Brand::load(&BrandSettings {
            name: "Signet".to_owned(),
            accent: None,
            logo_file: None,
            default_locale: "en".to_owned(),
        })
        .expect("the built-in brand"),
    )
});

tokio::task_local! {
    static CURRENT: Arc<Brand>;
}

/// The brand of the request being answered.
pub(crate) fn current() -> Arc<Brand> {
    CURRENT
        .try_with(Arc::clone)
        .unwrap_or_else(|_| Arc::clone(&DEFAULT))
}

/// Middleware: the rest of the request sees `brand` as [`current`].
pub(crate) async fn scope(
    State(brand): State<Arc<Brand>>,
    request: Request,
    next: Next,
) -> Response {
    CURRENT.scope(brand, next.run(request)).await
}

impl Brand {
    /// The body and content type served at `path`: the stylesheet or the
    /// logo at its hashed path; `None` for anything else.
    pub fn asset(&self, path: &str) -> Option<(Vec<u8>, &'static str)> {
        if path == self.stylesheet_href {
            Some((
                self.stylesheet.clone().into_bytes(),
                "text/css; charset=utf-8",
            ))
        } else if path == self.script_href {
            Some((
                PASSKEY_SCRIPT.as_bytes().to_vec(),
                "text/javascript; charset=utf-8",
            ))
        } else if path == self.logo_href {
            Some((self.logo.clone(), self.logo_type))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(accent: Option<[u8; 3]>, logo_file: Option<std::path::PathBuf>) -> BrandSettings {
        BrandSettings {
            name: "Acme".to_owned(),
            accent,
            logo_file,
            default_locale: "en".to_owned(),
        }
    }

    #[test]
    fn an_accent_colour_is_a_new_stylesheet_path_and_readable_in_both_themes() {
        let plain = Brand::load(&settings(None, None)).expect("brand");
        let green = Brand::load(&settings(Some([0x1a, 0x6b, 0x35]), None)).expect("brand");
        assert_ne!(plain.stylesheet_href, green.stylesheet_href);
        assert!(green.stylesheet.contains("--accent: #1a6b35"));
        let dark = dark_variant([0x1a, 0x6b, 0x35]);
        assert!(contrast(dark, DARK_CARD) >= 4.5, "{dark:?}");
        assert!(contrast(dark, DARK_ACCENT_TEXT) >= 4.5, "{dark:?}");
        assert!(green
            .stylesheet
            .contains(&format!("--accent: {}", hex(dark))));
    }

    #[test]
    fn a_logo_must_be_the_image_its_name_says() {
        let dir = tempfile::tempdir().expect("dir");
        let cases: [(&str, &[u8], bool); 5] = [
            ("logo.png", b"\x89PNG\r\n\x1a\nrest", true),
            (
                "logo.svg",
                b"<svg xmlns='http://www.w3.org/2000/svg'/>",
                true,
            ),
            ("logo.png", b"<svg/>", false),
            ("logo.gif", b"GIF89a", false),
            ("logo.svg", b"", false),
        ];
        for (name, bytes, ok) in cases {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).expect("write");
            let loaded = Brand::load(&settings(None, Some(path)));
            assert_eq!(loaded.is_ok(), ok, "{name}: {loaded:?}");
            if let Err(error) = loaded {
                assert!(
                    error.to_string().starts_with("BRAND_LOGO_FILE: "),
                    "{error}"
                );
            }
        }
        let missing = Brand::load(&settings(None, Some(dir.path().join("absent.png"))));
        assert!(missing
            .expect_err("missing")
            .to_string()
            .starts_with("BRAND_LOGO_FILE: cannot read"));
    }
}
