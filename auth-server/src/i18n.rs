//! The message catalogues of the pages and the mails: Project Fluent files,
//! one a language (`auth-server/locales/<tag>/main.ftl`), built into the
//! binary. English is the reference; a key another catalogue lacks is shown
//! in English.
//!
//! Which language a request is answered in is chosen once, by the `web`
//! middleware, and then holds for the whole request ([`scope`], like the
//! brand): templates and handlers call [`t`] and [`t1`] without passing it
//! around. Adding a language is adding its folder; `build.rs` lists them in
//! [`LOCALES`], and the tests require every catalogue to have every key.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Display;
use std::future::Future;
use std::sync::LazyLock;

use fluent_templates::fluent_bundle::FluentValue;
pub use fluent_templates::LanguageIdentifier;
use fluent_templates::Loader as _;

pub use crate::config::LOCALES;

fluent_templates::static_loader! {
    static CATALOGUES = {
        locales: "./locales",
        fallback_language: "en",
        // No Unicode isolation marks around placeables: the pages and
        // mails are left-to-right, and the marks would end up in
        // addresses and links.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The language requests are answered in when nothing else decides.
static ENGLISH: LazyLock<LanguageIdentifier> =
    LazyLock::new(|| "en".parse().expect("a language tag"));

/// The catalogues' languages, parsed.
static AVAILABLE: LazyLock<Vec<LanguageIdentifier>> = LazyLock::new(|| {
    LOCALES
        .iter()
        .map(|tag| tag.parse().expect("a catalogue named by a language tag"))
        .collect()
});

tokio::task_local! {
    static CURRENT: LanguageIdentifier;
}

/// The language of the request being answered (English outside one).
pub fn current() -> LanguageIdentifier {
    CURRENT.try_with(Clone::clone).unwrap_or_else(|_| english())
}

/// The reference catalogue's language.
pub fn english() -> LanguageIdentifier {
    ENGLISH.clone()
}

/// Run `work` with `language` as [`current`].
pub async fn scope<F: Future>(language: LanguageIdentifier, work: F) -> F::Output {
    CURRENT.scope(language, work).await
}

/// The best catalogue for `wanted`, most wanted first (`ui_locales`, or an
/// `Accept-Language` header sorted by weight): an exact match, else the
/// same language (`de-CH` takes `de`); `None` if no catalogue fits.
pub fn negotiate(wanted: &[LanguageIdentifier]) -> Option<LanguageIdentifier> {
    fluent_langneg::negotiate_languages(
        wanted,
        &AVAILABLE,
        None,
        fluent_langneg::NegotiationStrategy::Lookup,
    )
    .first()
    .map(|found| (*found).clone())
}

/// The language tags of an OIDC `ui_locales` value (space-separated, most
/// wanted first); tags that do not parse are skipped.
pub fn parse_ui_locales(value: &str) -> Vec<LanguageIdentifier> {
    value
        .split_ascii_whitespace()
        .filter_map(|tag| tag.parse().ok())
        .collect()
}

/// The language tags of an `Accept-Language` header, by weight.
pub fn parse_accept_language(value: &str) -> Vec<LanguageIdentifier> {
    fluent_langneg::accepted_languages::parse(value)
}

/// The message `key` in the current language.
pub fn t(key: &str) -> String {
    lookup(key, None)
}

/// The message `key` with one variable, `$name`, set to `value`.
pub fn t1(key: &str, name: &'static str, value: impl Display) -> String {
    with_args(key, [(name, value.to_string())])
}

/// A message variable: `("name", value)`, or a reference to one (as
/// templates pass their arguments).
pub trait Var {
    fn var(self) -> (&'static str, String);
}

impl<V: Display> Var for (&'static str, V) {
    fn var(self) -> (&'static str, String) {
        (self.0, self.1.to_string())
    }
}

impl<V: Display> Var for &(&'static str, V) {
    fn var(self) -> (&'static str, String) {
        (self.0, self.1.to_string())
    }
}

/// The message `key` with two variables.
pub fn t2(key: &str, first: impl Var, second: impl Var) -> String {
    with_args(key, [first.var(), second.var()])
}

/// The message `key` with three variables.
pub fn t3(key: &str, first: impl Var, second: impl Var, third: impl Var) -> String {
    with_args(key, [first.var(), second.var(), third.var()])
}

fn with_args<const N: usize>(key: &str, args: [(&'static str, String); N]) -> String {
    let args: HashMap<Cow<'static, str>, FluentValue<'_>> = args
        .into_iter()
        .map(|(name, value)| (Cow::Borrowed(name), FluentValue::from(value)))
        .collect();
    lookup(key, Some(&args))
}

fn lookup(key: &str, args: Option<&HashMap<Cow<'static, str>, FluentValue<'_>>>) -> String {
    let language = current();
    match CATALOGUES.try_lookup_complete(&language, key, args) {
        Some(text) => text,
        None => {
            // The catalogue tests make this unreachable for the keys in the
            // code; the key itself is a better page than nothing.
            tracing::warn!(key, "a message has no text in any catalogue");
            key.to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::Path;

    /// The message ids of a catalogue, attributes as `id.attribute`.
    fn ids(ftl: &str) -> BTreeSet<String> {
        let mut ids = BTreeSet::new();
        let mut message = String::new();
        for line in ftl.lines() {
            if line.starts_with(|c: char| c.is_ascii_lowercase()) {
                if let Some((id, _)) = line.split_once(" =") {
                    message = id.to_owned();
                    ids.insert(message.clone());
                }
            } else if let Some(attribute) = line.trim_start().strip_prefix('.') {
                if let Some((name, _)) = attribute.split_once(" =") {
                    ids.insert(format!("{message}.{name}"));
                }
            }
        }
        ids
    }

    fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("test input") {
            let path = entry.expect("test input").path();
            if path.is_dir() {
                files(&path, out);
            } else {
                out.push(path);
            }
        }
    }

    /// The keys the code and templates name: the first string literal of
    /// `t(`, `t1(`, `t2(`, `t3(`, and of `error_page(`/`notice_page(` after
    /// their status, and of `signed_out(` (those also need `.text`), and of
    /// `AuthorizeError::Page(`.
    fn keys_in_use(root: &Path) -> BTreeSet<String> {
        let mut paths = Vec::new();
        files(&root.join("src"), &mut paths);
        files(&root.join("templates"), &mut paths);
        let mut keys = BTreeSet::new();
        for path in paths {
            let text = std::fs::read_to_string(&path).expect("test input");
            let text = text.split("#[cfg(test)]").next().unwrap_or_default();
            for (call, skip_status, with_text) in [
                ("t(", false, false),
                ("t1(", false, false),
                ("t2(", false, false),
                ("t3(", false, false),
                ("error_page(", true, true),
                ("notice_page(", true, true),
                ("signed_out(", false, true),
                ("AuthorizeError::Page(", false, false),
            ] {
                let mut rest = text;
                while let Some(at) = rest.find(call) {
                    let before = rest[..at].chars().next_back();
                    rest = &rest[at + call.len()..];
                    if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                        continue;
                    }
                    let mut args = rest.trim_start();
                    if skip_status {
                        let Some(after) = args.strip_prefix("StatusCode::") else {
                            continue;
                        };
                        let Some(comma) = after.find(',') else {
                            continue;
                        };
                        args = after[comma + 1..].trim_start();
                    }
                    let Some(literal) = args.strip_prefix('"') else {
                        continue;
                    };
                    let key = &literal[..literal.find('"').expect("test input")];
                    keys.insert(key.to_owned());
                    if with_text {
                        keys.insert(format!("{key}.text"));
                    }
                }
            }
        }
        keys
    }

    #[test]
    fn every_catalogue_has_every_message_the_code_names() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let read = |tag: &str| {
            ids(
                &std::fs::read_to_string(root.join("locales").join(tag).join("main.ftl"))
                    .expect("test input"),
            )
        };
        let english = read("en");
        let used = keys_in_use(root);
        assert!(used.len() > 150, "the scan found the keys: {}", used.len());
        let missing: Vec<_> = used.difference(&english).collect();
        assert!(missing.is_empty(), "named but not in en: {missing:?}");
        let unused: Vec<_> = english.difference(&used).collect();
        assert!(unused.is_empty(), "in en but named nowhere: {unused:?}");
        for tag in LOCALES {
            let other = read(tag);
            let lacking: Vec<_> = english.difference(&other).collect();
            let extra: Vec<_> = other.difference(&english).collect();
            assert!(
                lacking.is_empty() && extra.is_empty(),
                "{tag}: lacks {lacking:?}, has unknown {extra:?}"
            );
        }
    }

    #[test]
    fn a_mail_keeps_its_paragraphs() {
        let mail = t2(
            "mail-reset",
            ("email", "a@example.com"),
            ("link", "http://l"),
        );
        assert!(mail.starts_with("Hello,\n\nsomeone"), "{mail:?}");
        assert!(mail.contains("\n\nhttp://l\n\n"), "{mail:?}");
    }

    fn tags(raw: &[&str]) -> Vec<LanguageIdentifier> {
        raw.iter().map(|t| t.parse().expect("test input")).collect()
    }

    #[test]
    fn a_regional_variant_takes_its_language_and_an_unknown_one_nothing() {
        assert_eq!(
            negotiate(&tags(&["de-CH"])),
            Some("de".parse().expect("test input"))
        );
        assert_eq!(
            negotiate(&tags(&["fr", "de", "en"])),
            Some("de".parse().expect("test input"))
        );
        assert_eq!(negotiate(&tags(&["fr", "ja"])), None);
        assert_eq!(negotiate(&[]), None);
    }

    #[test]
    fn accept_language_is_read_by_weight_and_ui_locales_in_order() {
        assert_eq!(
            negotiate(&parse_accept_language("fr;q=0.9, de;q=0.8, en;q=0.1")),
            Some("de".parse().expect("test input"))
        );
        assert_eq!(
            negotiate(&parse_ui_locales("  xx-!!  de en")),
            Some("de".parse().expect("test input"))
        );
    }

    #[tokio::test]
    async fn the_scope_decides_the_language_and_variables_are_filled_in() {
        let german = scope("de".parse().expect("test input"), async {
            t("sign-in-submit")
        })
        .await;
        let english = t("sign-in-submit");
        assert_ne!(german, english);
        let filled = t1("sign-in-to", "client", "<Blog>");
        assert!(filled.contains("<Blog>"), "{filled}");
        assert!(!filled.contains('\u{2068}'), "no isolation marks");
    }
}
