//! Web Push: pushes encrypted for the browser (RFC 8291, `aes128gcm`), signed with
//! the server's VAPID key (RFC 8292) and posted to the browser's push service
//! (RFC 8030).
