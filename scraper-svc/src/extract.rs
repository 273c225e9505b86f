//! Turning a fetched document into blog items: RSS/Atom/JSON feeds through
//! feed-rs, anything else as an HTML page through html5ever (the `scraper` crate).

use scraper::{Html, Selector};
use url::Url;

/// One thing to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub title: String,
    pub body: String,
    pub source_url: String,
}

const MAX_TITLE_CHARS: usize = 200;
const MAX_BODY_CHARS: usize = 20_000;

fn clip(text: &str, max: usize) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed.chars().take(max).collect()
}

/// Deepest element nesting a document may have. html5ever's tree builder
/// takes time quadratic in the nesting depth (40,000 nested `<div>`s took
/// 3.6 s; a 2 MB page, minutes); real pages stay far below this.
pub const MAX_NESTING: usize = 512;

/// Elements that never hold children, or that the parser closes on their next
/// sibling, so they never deepen the tree however many there are.
const FLAT_ELEMENTS: [&str; 22] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "p", "li", "dt", "dd", "option", "tr", "td", "th", "param",
];

/// An upper estimate of the element nesting depth of `html`, in one linear
/// pass without building anything: start tags open, end tags close, void and
/// self-closing tags do neither, comments and `<script>`/`<style>` text are skipped.
pub fn nesting_depth(html: &str) -> usize {
    let bytes = html.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    let find = |from: usize, needle: &str| -> usize {
        html.get(from..)
            .and_then(|rest| rest.find(needle))
            .map_or(bytes.len(), |at| from + at + needle.len())
    };
    while i < bytes.len() {
        if bytes[i] != b'<' {
            i += 1;
            continue;
        }
        if html[i..].starts_with("<!--") {
            i = find(i + 4, "-->");
            continue;
        }
        let closing = bytes.get(i + 1) == Some(&b'/');
        let start = i + 1 + usize::from(closing);
        let end = bytes[start..]
            .iter()
            .position(|b| !b.is_ascii_alphanumeric() && *b != b'-')
            .map_or(bytes.len(), |n| start + n);
        if end == start || !bytes[start].is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        let name = html[start..end].to_ascii_lowercase();
        let tag_end = find(end, ">");
        let self_closing = tag_end >= 2 && bytes.get(tag_end - 2) == Some(&b'/');
        i = tag_end;
        if FLAT_ELEMENTS.contains(&name.as_str()) {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
        } else if !self_closing {
            depth += 1;
            deepest = deepest.max(depth);
            if name == "script" || name == "style" {
                i = find(i, &format!("</{name}"));
                depth -= 1;
            }
        }
    }
    deepest
}

fn parse_checked(html: &str) -> Result<(), ExtractError> {
    if nesting_depth(html) > MAX_NESTING {
        return Err(ExtractError::TooDeep);
    }
    Ok(())
}

/// Text of an HTML fragment (feed summaries are often HTML).
fn text_of_html(fragment: &str) -> Result<String, ExtractError> {
    parse_checked(fragment)?;
    Ok(Html::parse_fragment(fragment)
        .root_element()
        .text()
        .collect::<Vec<_>>()
        .join(" "))
}

fn looks_like_feed(content_type: &str, body: &[u8]) -> bool {
    let content_type = content_type.to_ascii_lowercase();
    if content_type.contains("rss")
        || content_type.contains("atom")
        || content_type.contains("xml")
        || content_type.contains("feed+json")
    {
        return true;
    }
    let head = String::from_utf8_lossy(&body[..body.len().min(512)]).to_ascii_lowercase();
    let head = head.trim_start();
    head.starts_with("<?xml") || head.starts_with("<rss") || head.starts_with("<feed")
}

/// Why a document yielded nothing.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExtractError {
    #[error("not a valid feed: {0}")]
    Feed(String),
    #[error("the page has no title or text to publish")]
    EmptyPage,
    #[error("the document is nested too deeply")]
    TooDeep,
}

pub fn extract(
    source: &Url,
    content_type: &str,
    body: &[u8],
    max_items: usize,
) -> Result<Vec<Item>, ExtractError> {
    if looks_like_feed(content_type, body) {
        extract_feed(source, body, max_items)
    } else {
        extract_page(source, body).map(|item| vec![item])
    }
}

fn extract_feed(source: &Url, body: &[u8], max_items: usize) -> Result<Vec<Item>, ExtractError> {
    let feed = feed_rs::parser::parse(body).map_err(|e| ExtractError::Feed(e.to_string()))?;
    let mut items = Vec::new();
    for entry in feed.entries.into_iter().take(max_items) {
        // The item's permalink, resolved against the feed's URL; else an id that is a URL.
        let link = entry
            .links
            .iter()
            .find_map(|l| source.join(&l.href).ok())
            .or_else(|| Url::parse(&entry.id).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"));
        let Some(link) = link else { continue };
        let title = match entry.title {
            Some(t) => clip(&text_of_html(&t.content)?, MAX_TITLE_CHARS),
            None => String::new(),
        };
        let body = match entry
            .content
            .and_then(|c| c.body)
            .or_else(|| entry.summary.map(|s| s.content))
        {
            Some(html) => clip(&text_of_html(&html)?, MAX_BODY_CHARS),
            None => String::new(),
        };
        let title = if title.is_empty() {
            clip(link.as_str(), MAX_TITLE_CHARS)
        } else {
            title
        };
        let body = if body.is_empty() { title.clone() } else { body };
        items.push(Item {
            title,
            body,
            source_url: link.to_string(),
        });
    }
    Ok(items)
}

fn first_match(document: &Html, selector: &str, attribute: Option<&str>) -> Option<String> {
    let selector = Selector::parse(selector).ok()?;
    let element = document.select(&selector).next()?;
    let text = match attribute {
        Some(name) => element.value().attr(name)?.to_owned(),
        None => element.text().collect::<Vec<_>>().join(" "),
    };
    let text = clip(&text, MAX_BODY_CHARS);
    (!text.is_empty()).then_some(text)
}

fn extract_page(source: &Url, body: &[u8]) -> Result<Item, ExtractError> {
    let text = String::from_utf8_lossy(body);
    parse_checked(&text)?;
    let document = Html::parse_document(&text);
    let title = first_match(&document, r#"meta[property="og:title"]"#, Some("content"))
        .or_else(|| first_match(&document, "title", None))
        .or_else(|| first_match(&document, "h1", None));
    let text = first_match(
        &document,
        r#"meta[property="og:description"]"#,
        Some("content"),
    )
    .or_else(|| first_match(&document, r#"meta[name="description"]"#, Some("content")))
    .or_else(|| first_match(&document, "article", None))
    .or_else(|| first_match(&document, "main", None))
    .or_else(|| first_match(&document, "p", None));
    match (title, text) {
        (None, None) => Err(ExtractError::EmptyPage),
        (title, text) => {
            let title = clip(
                &title.clone().or_else(|| text.clone()).unwrap_or_default(),
                MAX_TITLE_CHARS,
            );
            let body = text.unwrap_or_else(|| title.clone());
            Ok(Item {
                title,
                body,
                source_url: source.to_string(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deeply_nested_html_is_refused_before_parsing() {
        let hostile = format!("<html><body>{}x</body></html>", "<div>".repeat(40_000));
        assert!(nesting_depth(&hostile) >= 40_000);
        assert_eq!(
            extract(
                &url("http://feed.test/p"),
                "text/html",
                hostile.as_bytes(),
                10
            ),
            Err(ExtractError::TooDeep)
        );
        // The same inside a feed item's summary.
        let summary = "&lt;b&gt;".repeat(1_000);
        let rss = format!(
            r#"<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>x</title><link>/1</link><description>{summary}</description></item></channel></rss>"#
        );
        assert_eq!(
            extract(
                &url("http://feed.test/rss"),
                "application/rss+xml",
                rss.as_bytes(),
                10
            ),
            Err(ExtractError::TooDeep)
        );
    }

    #[test]
    fn ordinary_pages_are_shallow_whatever_their_length() {
        let page = format!(
            "<!doctype html><html><head><meta charset=utf-8><title>t</title><script>if (a<b) {{ x('<div>') }}</script></head><body><!-- <div><div> -->{}<ul>{}</ul><img src=x><br/></body></html>",
            "<p>para".repeat(5_000),
            "<li>item".repeat(5_000)
        );
        assert!(nesting_depth(&page) < 10, "{}", nesting_depth(&page));
    }

    fn url(s: &str) -> Url {
        Url::parse(s).expect("url")
    }

    #[test]
    fn rss_items_become_posts_with_their_permalinks() {
        let rss = br#"<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
            <item><title>First &amp; best</title><link>/posts/1</link><description>&lt;p&gt;Hello &lt;b&gt;world&lt;/b&gt;&lt;/p&gt;</description></item>
            <item><title>Second</title><link>http://other.test/2</link></item>
            </channel></rss>"#;
        let items = extract(
            &url("http://feeds.test/rss.xml"),
            "application/rss+xml",
            rss,
            10,
        )
        .expect("feed");
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].title, "First & best");
        assert_eq!(items[0].source_url, "http://feeds.test/posts/1");
        assert_eq!(items[0].body, "Hello world");
        assert_eq!(
            items[1].body, "Second",
            "an item without text repeats its title"
        );
    }

    #[test]
    fn atom_feeds_parse_too_and_the_item_cap_applies() {
        let atom = br#"<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><id>urn:x</id><updated>2026-01-01T00:00:00Z</updated>
            <entry><title>One</title><id>urn:1</id><link href="http://a.test/1"/><updated>2026-01-01T00:00:00Z</updated><summary>s1</summary></entry>
            <entry><title>Two</title><id>urn:2</id><link href="http://a.test/2"/><updated>2026-01-01T00:00:00Z</updated><summary>s2</summary></entry>
            </feed>"#;
        let items =
            extract(&url("http://a.test/atom"), "application/atom+xml", atom, 1).expect("feed");
        assert_eq!(
            items,
            vec![Item {
                title: "One".into(),
                body: "s1".into(),
                source_url: "http://a.test/1".into()
            }]
        );
    }

    #[test]
    fn an_html_page_yields_its_title_and_description() {
        let html = br#"<html><head><title> Page  title </title><meta name="description" content="What it says"></head><body><p>para</p></body></html>"#;
        let items = extract(
            &url("http://site.test/page"),
            "text/html; charset=utf-8",
            html,
            10,
        )
        .expect("page");
        assert_eq!(
            items,
            vec![Item {
                title: "Page title".into(),
                body: "What it says".into(),
                source_url: "http://site.test/page".into()
            }]
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(
            extract(
                &url("http://x.test/f"),
                "application/rss+xml",
                b"<rss><channel><item>",
                10
            ),
            Err(ExtractError::Feed(_))
        ));
        assert_eq!(
            extract(
                &url("http://x.test/p"),
                "text/html",
                b"<html><body></body></html>",
                10
            ),
            Err(ExtractError::EmptyPage)
        );
        assert!(extract(
            &url("http://x.test/b"),
            "application/octet-stream",
            &[0xff, 0x00, 0xfe],
            10
        )
        .is_err());
    }
}
