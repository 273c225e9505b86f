//! `/docs`: a service's OpenAPI document as a web page, rendered on the
//! server (askama, auto-escaping), with its one stylesheet served by the
//! service itself: no script, no CDN, the same strict CSP as the other pages
//! (`default-src 'none'; style-src 'self'`). Every operation with its
//! parameters, body, answers and authentication; every schema with its fields.

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// Where the stylesheet is served (`stylesheet` answers it).
pub const STYLESHEET_PATH: &str = "/docs/docs.css";

const STYLESHEET: &str = include_str!("../assets/docs.css");

struct Parameter {
    name: String,
    location: String,
    required: bool,
    kind: String,
    description: String,
}

struct Answer {
    status: String,
    description: String,
    kind: String,
}

struct Operation {
    anchor: String,
    method: String,
    path: String,
    summary: String,
    description: String,
    security: Vec<String>,
    parameters: Vec<Parameter>,
    body: Option<String>,
    answers: Vec<Answer>,
}

struct Group {
    tag: String,
    operations: Vec<Operation>,
}

struct Field {
    name: String,
    kind: String,
    required: bool,
    description: String,
}

struct Schema {
    name: String,
    description: String,
    fields: Vec<Field>,
}

#[derive(Template)]
#[template(path = "docs.html")]
struct DocsPage {
    title: String,
    version: String,
    description: String,
    servers: Vec<String>,
    schemes: Vec<(String, String)>,
    groups: Vec<Group>,
    schemas: Vec<Schema>,
    stylesheet: &'static str,
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// A schema in a few words: `PostView`, `array of RunView`, `string | null`.
fn kind(schema: &Value) -> String {
    if let Some(reference) = schema["$ref"].as_str() {
        return reference.rsplit('/').next().unwrap_or(reference).to_owned();
    }
    for combinator in ["oneOf", "anyOf", "allOf"] {
        if let Some(options) = schema[combinator].as_array() {
            return options.iter().map(kind).collect::<Vec<_>>().join(" | ");
        }
    }
    let base = match &schema["type"] {
        Value::String(name) => name.clone(),
        Value::Array(names) => names
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        _ => String::new(),
    };
    if base.starts_with("array") {
        return format!("array of {}", kind(&schema["items"]));
    }
    match schema["format"].as_str() {
        Some(format) if !base.is_empty() => format!("{base} ({format})"),
        _ => base,
    }
}

fn operations(document: &Value) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    let Some(paths) = document["paths"].as_object() else {
        return groups;
    };
    for (path, item) in paths {
        let Some(methods) = item.as_object() else {
            continue;
        };
        for (method, operation) in methods {
            let tag = operation["tags"][0].as_str().unwrap_or("other").to_owned();
            let security = operation["security"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|requirement| {
                    let names: Vec<&str> = requirement
                        .as_object()
                        .map(|o| o.keys().map(String::as_str).collect())
                        .unwrap_or_default();
                    if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(" + ")
                    }
                })
                .collect();
            let parameters = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| Parameter {
                    name: text(&p["name"]),
                    location: text(&p["in"]),
                    required: p["required"].as_bool().unwrap_or(false),
                    kind: kind(&p["schema"]),
                    description: text(&p["description"]),
                })
                .collect();
            let body = operation["requestBody"]["content"]
                .as_object()
                .and_then(|content| content.iter().next())
                .map(|(media_type, media)| format!("{media_type}: {}", kind(&media["schema"])));
            let answers = operation["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(status, answer)| Answer {
                    status: status.clone(),
                    description: text(&answer["description"]),
                    kind: answer["content"]
                        .as_object()
                        .and_then(|content| content.values().next())
                        .map(|media| kind(&media["schema"]))
                        .unwrap_or_default(),
                })
                .collect();
            let entry = Operation {
                anchor: format!("{method}-{path}")
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                    .collect(),
                method: method.to_ascii_uppercase(),
                path: path.clone(),
                summary: text(&operation["summary"]),
                description: text(&operation["description"]),
                security,
                parameters,
                body,
                answers,
            };
            match groups.iter_mut().find(|g| g.tag == tag) {
                Some(group) => group.operations.push(entry),
                None => groups.push(Group {
                    tag,
                    operations: vec![entry],
                }),
            }
        }
    }
    groups
}

fn schemas(document: &Value) -> Vec<Schema> {
    document["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, schema)| {
            let required: Vec<&str> = schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            Schema {
                name: name.clone(),
                description: text(&schema["description"]),
                fields: schema["properties"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(field, property)| Field {
                        name: field.clone(),
                        kind: kind(property),
                        required: required.contains(&field.as_str()),
                        description: text(&property["description"]),
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The page for `document` (an OpenAPI 3.1 document as JSON).
pub fn render(document: &Value) -> Result<String, askama::Error> {
    DocsPage {
        title: text(&document["info"]["title"]),
        version: text(&document["info"]["version"]),
        description: text(&document["info"]["description"]),
        servers: document["servers"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|server| text(&server["url"]))
            .collect(),
        schemes: document["components"]["securitySchemes"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, scheme)| {
                let description = text(&scheme["description"]);
                let how = format!("HTTP {}", text(&scheme["scheme"]));
                (
                    name.clone(),
                    if description.is_empty() {
                        how
                    } else {
                        format!("{how}: {description}")
                    },
                )
            })
            .collect(),
        groups: operations(document),
        schemas: schemas(document),
        stylesheet: STYLESHEET_PATH,
    }
    .render()
}

/// `GET /docs`: the page, under the pages' CSP.
pub fn page(document: &utoipa::openapi::OpenApi) -> Response {
    let html = serde_json::to_value(document)
        .map_err(|e| e.to_string())
        .and_then(|value| render(&value).map_err(|e| e.to_string()));
    match html {
        Ok(html) => crate::web::page(StatusCode::OK, html, None),
        Err(cause) => crate::error::ApiError::Internal(anyhow::anyhow!("rendering /docs: {cause}"))
            .into_response(),
    }
}

/// `router` with `GET /docs` (answered by `page_handler`, which renders the
/// service's document with [`page`]) and its stylesheet.
pub fn routes<S, H, T>(router: axum::Router<S>, page_handler: H) -> axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
    H: axum::handler::Handler<T, S>,
    T: 'static,
{
    router
        .route("/docs", axum::routing::get(page_handler))
        .route(STYLESHEET_PATH, axum::routing::get(stylesheet))
}

/// `GET /docs/docs.css`.
pub async fn stylesheet() -> Response {
    let mut response = STYLESHEET.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_from_the_document_is_escaped() {
        let document = serde_json::json!({
            "openapi": "3.1.0",
            "info": {"title": "<b>T</b>", "version": "1", "description": "<script>alert(1)</script>"},
            "paths": {"/x/{id}": {"get": {
                "tags": ["t\"><img src=x>"],
                "summary": "<i>s</i>",
                "parameters": [{"name": "id", "in": "path", "required": true,
                                "description": "<svg onload=x>", "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok & <done>"}}
            }}},
            "components": {"schemas": {"S": {"properties": {"f": {"type": ["string", "null"], "description": "<u>"}}}}}
        });
        let html = render(&document).expect("renders");
        for raw in [
            "<script>",
            "<b>T</b>",
            "<img src=x>",
            "<i>s</i>",
            "<svg",
            "<u>",
            "<done>",
        ] {
            assert!(!html.contains(raw), "{raw} unescaped");
        }
        assert!(
            html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{html}"
        );
        assert!(html.contains("string | null"));
        assert!(!html.contains("<script"), "no script at all");
    }
}
