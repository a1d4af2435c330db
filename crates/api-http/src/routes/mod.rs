pub(crate) mod admin;
pub(crate) mod attachment_download;
pub(crate) mod attachment_link;
pub(crate) mod attachment_upload;
pub(crate) mod auth;
pub(crate) mod calls;
pub(crate) mod chats;
pub(crate) mod config;
pub(crate) mod contacts;
pub(crate) mod email;
pub(crate) mod health;
pub(crate) mod links;
pub(crate) mod message_actions;
pub(crate) mod messages;
pub(crate) mod push;
pub(crate) mod receipts;
pub(crate) mod search;
pub(crate) mod users;

use chitchat_domain::ErrorCode;
use utoipa_actix_web::{scope, service_config::ServiceConfig};

/// Every REST endpoint, each registered once: its route and its OpenAPI entry both
/// come from this registration (the handler's `#[utoipa::path]` and method macro).
pub(crate) fn configure(cfg: &mut ServiceConfig) {
    let rate_limit = || actix_web::middleware::from_fn(crate::limits::rate_limit);
    cfg.service(health::health)
        // Before `/api`: downloads are not rate-limited, since a conversation full of
        // photos fetches many at once (and browsers cache them); uploads are (their
        // handler wraps itself).
        .service(
            scope("/api/attachments")
                .service(attachment_upload::upload)
                .service(attachment_download::original)
                .service(attachment_download::thumbnail)
                .service(attachment_link::issue),
        )
        .service(
            scope("/api")
                .wrap(rate_limit())
                .route("/openapi.json", actix_web::web::get().to(crate::openapi::openapi_json))
                .service(config::client_config)
                .service(auth::request_code)
                .service(auth::register)
                .service(auth::verify)
                .service(auth::logout)
                .service(auth::devices)
                .service(auth::revoke_device)
                .service(links::create)
                .service(links::lookup)
                .service(links::confirm)
                .service(links::claim)
                .service(users::search)
                .service(contacts::me)
                .service(contacts::update_me)
                .service(email::set)
                .service(email::verify)
                .service(email::remove)
                .service(contacts::block)
                .service(contacts::unblock)
                .service(contacts::list)
                .service(contacts::add)
                .service(contacts::remove_phone)
                .service(contacts::remove)
                .service(chats::create)
                .service(chats::list)
                .service(chats::get)
                .service(chats::update)
                .service(receipts::read_up_to)
                .service(chats::put_settings)
                .service(chats::add_members)
                .service(chats::remove_member)
                .service(chats::set_role)
                .service(messages::send)
                .service(messages::history)
                .service(search::messages)
                .service(receipts::message_status)
                .service(receipts::list)
                .service(message_actions::edit)
                .service(message_actions::delete)
                .service(message_actions::edits)
                .service(message_actions::forward)
                .service(message_actions::react)
                .service(message_actions::unreact)
                .service(push::key)
                .service(push::subscribe)
                .service(push::unsubscribe)
                .service(calls::ice_servers)
                .service(admin::file)
                .service(admin::users)
                .service(admin::disable)
                .service(admin::enable)
                .service(admin::reports)
                .service(admin::act)
                .service(admin::audit)
                .service(admin::stats),
        );
}

/// A chat id from a path, query or body; malformed ids are simply unknown chats.
pub(crate) fn parse_chat_id(raw: &str) -> Result<chitchat_domain::ChatId, chitchat_domain::DomainError> {
    raw.trim().parse().map_err(|_| chitchat_domain::DomainError::chat_not_found())
}

/// A message id from a path or body; malformed ids are simply unknown messages.
pub(crate) fn parse_message_id(raw: &str) -> Result<chitchat_domain::MessageId, chitchat_domain::DomainError> {
    raw.trim()
        .parse()
        .map_err(|_| chitchat_domain::DomainError::not_found(ErrorCode::MessageNotFound, "message not found"))
}
