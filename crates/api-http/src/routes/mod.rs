pub(crate) mod attachment_download;
pub(crate) mod attachment_link;
pub(crate) mod attachment_upload;
pub(crate) mod auth;
pub(crate) mod chats;
pub(crate) mod config;
pub(crate) mod contacts;
pub(crate) mod health;
pub(crate) mod message_actions;
pub(crate) mod messages;
pub(crate) mod receipts;
pub(crate) mod search;
pub(crate) mod users;

use actix_web::web;
use chitchat_domain::ErrorCode;

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    let rate_limit = || actix_web::middleware::from_fn(crate::limits::rate_limit);
    cfg.route("/health", web::get().to(health::health))
        // Before `/api`: downloads are not rate-limited, since a conversation full of
        // photos fetches many at once (and browsers cache them); uploads are.
        .service(
            web::scope("/api/attachments")
                .service(web::resource("").wrap(rate_limit()).route(web::post().to(attachment_upload::upload)))
                .route("/{id}", web::get().to(attachment_download::original))
                .route("/{id}/thumbnail", web::get().to(attachment_download::thumbnail))
                .route("/{id}/link", web::post().to(attachment_link::issue)),
        )
        .service(
            web::scope("/api")
                .wrap(rate_limit())
                .route("/openapi.json", web::get().to(crate::openapi::openapi_json))
                .route("/config", web::get().to(config::client_config))
                .route("/auth/otp", web::post().to(auth::request_code))
                .route("/auth/register", web::post().to(auth::register))
                .route("/auth/verify", web::get().to(auth::verify))
                .route("/auth/logout", web::post().to(auth::logout))
                .route("/auth/sessions", web::get().to(auth::devices))
                .route("/auth/sessions/{id}", web::delete().to(auth::revoke_device))
                .route("/users/search", web::get().to(users::search))
                .route("/users/me", web::get().to(contacts::me))
                .route("/users/me", web::patch().to(contacts::update_me))
                .route("/users/{id}/block", web::post().to(contacts::block))
                .route("/users/{id}/block", web::delete().to(contacts::unblock))
                .route("/contacts", web::get().to(contacts::list))
                .route("/contacts", web::post().to(contacts::add))
                .route("/contacts", web::delete().to(contacts::remove_phone))
                .route("/contacts/{user_id}", web::delete().to(contacts::remove))
                .route("/chats", web::post().to(chats::create))
                .route("/chats", web::get().to(chats::list))
                .route("/chats/{id}", web::get().to(chats::get))
                .route("/chats/{id}", web::patch().to(chats::update))
                .route("/chats/{id}/read", web::post().to(receipts::read_up_to))
                .route("/chats/{id}/settings", web::put().to(chats::put_settings))
                .route("/chats/{id}/members", web::post().to(chats::add_members))
                .route("/chats/{id}/members/{user_id}", web::delete().to(chats::remove_member))
                .route("/chats/{id}/members/{user_id}", web::patch().to(chats::set_role))
                .route("/messages", web::post().to(messages::send))
                .route("/messages", web::get().to(messages::history))
                .route("/messages/search", web::get().to(search::messages))
                .route("/messages/status", web::post().to(receipts::message_status))
                .route("/messages/{id}/receipts", web::get().to(receipts::list))
                .route("/messages/{id}", web::patch().to(message_actions::edit))
                .route("/messages/{id}", web::delete().to(message_actions::delete))
                .route("/messages/{id}/edits", web::get().to(message_actions::edits))
                .route("/messages/{id}/forward", web::post().to(message_actions::forward))
                .route("/messages/{id}/reactions", web::put().to(message_actions::react))
                .route("/messages/{id}/reactions", web::delete().to(message_actions::unreact)),
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
