//! What the two HTTP users (the JWKS fetch and the service-token client)
//! share: URL rules and the redirect policy. Compiled only with a feature
//! that fetches (`jwks`, `client`).

use url::Url;

use crate::KeyError;

pub(crate) fn parse_http_url(url: &str) -> Result<Url, KeyError> {
    let parsed = Url::parse(url).map_err(|e| KeyError::InvalidUrl {
        url: url.to_owned(),
        reason: e.to_string(),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(KeyError::InvalidUrl {
            url: url.to_owned(),
            reason: "scheme must be http or https".into(),
        });
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(KeyError::InvalidUrl {
            url: url.to_owned(),
            reason: "credentials in the URL are not allowed".into(),
        });
    }
    Ok(parsed)
}

/// Up to 3 redirects, each to the origin of the original request: a JWKS
/// must not be taken from another host, nor downgraded from https to http.
pub(crate) fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same_origin = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if !same_origin {
            attempt.error("redirect to another origin refused")
        } else if attempt.previous().len() > 3 {
            attempt.error("too many redirects")
        } else {
            attempt.follow()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_without_credentials_are_accepted() {
        assert!(parse_http_url("https://auth.example.com/.well-known/jwks.json").is_ok());
        assert!(parse_http_url("file:///etc/passwd").is_err());
        assert!(parse_http_url("http://user:pw@host/jwks").is_err());
        assert!(parse_http_url("not a url").is_err());
    }
}
