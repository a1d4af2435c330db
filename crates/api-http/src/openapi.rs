//! The OpenAPI document of the REST API, served at `/api/openapi.json`, and Swagger
//! UI at `/swagger/` with its files built in. Its paths are collected from the one
//! registration of the routes (`routes::configure`); this file adds what is common.

use actix_web::HttpResponse;
use std::sync::OnceLock;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{HttpMethod, OpenApi as Document, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

/// Where the document is served.
pub const OPENAPI_PATH: &str = "/api/openapi.json";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ChitChat",
        description = "REST API of ChitChat, a self-hosted messenger. Real-time events travel over the \
                       WebSocket at `/ws`, described in docs/protocol.md. Every error is \
                       `{\"error\":{\"code\",\"message\"}}`."
    ),
    // Schemas that only query parameters name are not collected on their own.
    components(schemas(crate::error::ErrorBody, chitchat_domain::message::DeleteScope)),
    tags(
        (name = "auth", description = "Login by phone and one-time code; devices"),
        (name = "users", description = "Profiles and people search"),
        (name = "contacts", description = "Contacts and blocking"),
        (name = "chats", description = "Direct chats, groups, members, per-person settings"),
        (name = "messages", description = "Sending, history, edit, delete, forward, reactions"),
        (name = "receipts", description = "Delivered and read"),
        (name = "search", description = "Full-text message search"),
        (name = "attachments", description = "Photos, videos, voice and documents: upload, then send by id"),
        (name = "calls", description = "Voice and video calls: the STUN and TURN servers browsers connect through"),
        (name = "admin", description = "Reports, and the admins' users, reports, audit log and figures"),
        (name = "health", description = "For load balancers and probes"),
        (name = "config", description = "The limits a client shows before it asks"),
    )
)]
struct ApiDoc;

/// Declares the bearer scheme and adds to every operation the errors any of them
/// can answer, so that each handler lists only its own.
struct SecurityAndCommonErrors;

impl Modify for SecurityAndCommonErrors {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::builder().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
        for item in doc.paths.paths.values_mut() {
            for method in [HttpMethod::Get, HttpMethod::Post, HttpMethod::Put, HttpMethod::Patch, HttpMethod::Delete] {
                if let Some(operation) = operation_mut(item, method) {
                    add_common_errors(operation);
                }
            }
        }
    }
}

fn operation_mut(item: &mut utoipa::openapi::PathItem, method: HttpMethod) -> Option<&mut Operation> {
    match method {
        HttpMethod::Get => item.get.as_mut(),
        HttpMethod::Post => item.post.as_mut(),
        HttpMethod::Put => item.put.as_mut(),
        HttpMethod::Patch => item.patch.as_mut(),
        HttpMethod::Delete => item.delete.as_mut(),
        _ => None,
    }
}

fn add_common_errors(operation: &mut Operation) {
    let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let has_body = operation.request_body.is_some();
    let has_query = operation
        .parameters
        .as_ref()
        .is_some_and(|ps| ps.iter().any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query)));
    let mut errors: Vec<(&str, &str)> = vec![("429", "Too many requests: wait for `Retry-After` seconds")];
    if secured {
        errors.push(("401", "Missing, expired or revoked token"));
        errors.push(("422", "The request breaks a rule (the error code says which)"));
    }
    if has_body {
        errors.push(("400", "The body is not valid JSON or could not be read"));
        errors.push(("413", "The body or a field in it is too large"));
        errors.push(("415", "The body is not `application/json`"));
        errors.push(("408", "The body stalled or took too long to arrive (`body_timeout`); the connection is closed"));
    }
    if has_body || has_query {
        errors.push(("400", "A query parameter has the wrong type"));
        errors.push(("422", "A field is missing, has the wrong type or breaks a rule"));
    }
    for (status, description) in errors {
        if !operation.responses.responses.contains_key(status) {
            let response = ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    utoipa::openapi::ContentBuilder::new().schema(Some(Ref::from_schema_name("Error"))).build(),
                )
                .build();
            operation.responses.responses.insert(status.to_owned(), response.into());
        }
    }
}

/// The document, built once: the common parts above, merged with the paths and
/// schemas the route registration collects (an app built only to read them).
pub fn document() -> &'static Document {
    static DOC: OnceLock<Document> = OnceLock::new();
    DOC.get_or_init(|| {
        let (_, routes) = actix_web::App::new().into_utoipa_app().configure(crate::routes::configure).split_for_parts();
        let mut doc = ApiDoc::openapi().merge_from(routes);
        SecurityAndCommonErrors.modify(&mut doc);
        doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
        doc
    })
}

/// `GET /api/openapi.json`.
pub(crate) async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(document())
}

/// `GET /swagger`: on to the page.
pub(crate) async fn swagger_home() -> HttpResponse {
    HttpResponse::Found().insert_header(("Location", "/swagger/index.html")).finish()
}

/// Swagger UI, mounted under `/swagger` (so at `/swagger/index.html`), reading the
/// document from [`OPENAPI_PATH`].
pub(crate) fn swagger_ui() -> SwaggerUi {
    SwaggerUi::new("/{_:.*}").config(utoipa_swagger_ui::Config::from(OPENAPI_PATH))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_documents_its_errors_with_the_error_schema() {
        let doc = document();
        let json = serde_json::to_value(doc).unwrap();
        let paths = json["paths"].as_object().unwrap();
        assert!(paths.len() >= 25, "only {} paths documented", paths.len());
        for (path, item) in paths {
            for (method, op) in item.as_object().unwrap() {
                let responses = op["responses"].as_object().unwrap();
                assert!(responses.contains_key("429"), "{method} {path} lacks 429");
                if op.get("security").is_some() {
                    assert!(responses.contains_key("401"), "{method} {path} needs a token but lacks 401");
                }
            }
        }
    }

    #[test]
    fn every_referenced_schema_is_defined() {
        let json = serde_json::to_string(document()).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
        let defined = doc["components"]["schemas"].as_object().unwrap();
        for reference in json.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = reference.split('"').next().unwrap();
            assert!(defined.contains_key(name), "schema {name} is referenced but not defined");
        }
    }

    /// The fuzz checks decode every JSON body the API reads: an endpoint that takes
    /// one cannot be registered without its check, and no check names a route that is gone.
    #[test]
    fn every_json_request_body_has_exactly_one_body_check() {
        let json = serde_json::to_value(document()).unwrap();
        let mut with_json_body = Vec::new();
        for (path, item) in json["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if op["requestBody"]["content"].get("application/json").is_some() {
                    with_json_body.push(format!("{} {path}", method.to_uppercase()));
                }
            }
        }
        with_json_body.sort();
        let mut checked: Vec<String> =
            crate::body_check::REQUEST_BODIES.iter().map(|(route, _)| (*route).to_owned()).collect();
        checked.sort();
        assert_eq!(checked, with_json_body);
    }

    #[test]
    fn anonymous_endpoints_are_exactly_login_linking_health_and_client_config() {
        let json = serde_json::to_value(document()).unwrap();
        let mut anonymous = Vec::new();
        for (path, item) in json["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if op.get("security").is_none() {
                    anonymous.push(format!("{method} {path}"));
                }
            }
        }
        anonymous.sort();
        assert_eq!(
            anonymous,
            [
                "get /api/config",
                "get /health",
                "post /api/auth/links",
                "post /api/auth/links/{link_id}/claim",
                "post /api/auth/otp",
                "post /api/auth/register"
            ]
        );
    }
}
