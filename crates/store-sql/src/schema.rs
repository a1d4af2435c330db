// The portable schema shared by both backends; must match migrations/{postgres,sqlite}.

diesel::table! {
    users (id) {
        id -> Text,
        phone -> Text,
        name -> Text,
        status -> Text,
        last_seen -> BigInt,
        created_at -> BigInt,
        last_seen_visibility -> Text,
        notification_previews -> Bool,
        disabled_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    reports (id) {
        id -> Text,
        reporter_id -> Text,
        subject_id -> Text,
        message_id -> Nullable<Text>,
        message_copy -> Nullable<Text>,
        reason -> Text,
        created_at -> BigInt,
        status -> Text,
        resolved_at -> Nullable<BigInt>,
        resolved_by -> Nullable<Text>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> BigInt,
        actor -> Text,
        action -> Text,
        target -> Text,
        details -> Text,
    }
}

diesel::table! {
    user_emails (user_id) {
        user_id -> Text,
        address -> Text,
        verified_at -> Nullable<BigInt>,
        code_hash -> Nullable<Text>,
        code_expires_at -> Nullable<BigInt>,
        attempts -> Integer,
        created_at -> BigInt,
    }
}

diesel::table! {
    push_subscriptions (endpoint) {
        endpoint -> Text,
        session_id -> Text,
        user_id -> Text,
        p256dh -> Text,
        auth -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    push_outbox (id) {
        id -> BigInt,
        endpoint -> Text,
        payload -> Text,
        urgency -> Text,
        topic -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> BigInt,
        next_attempt_at -> BigInt,
        attempts -> Integer,
    }
}

diesel::table! {
    otp_challenges (phone) {
        phone -> Text,
        code_hash -> Text,
        expires_at -> BigInt,
        attempts -> Integer,
        created_at -> BigInt,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        device -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    device_links (id) {
        id -> Text,
        phone -> Text,
        code_hash -> Text,
        claim_hash -> Text,
        device -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        confirmed_by -> Nullable<Text>,
        session_id -> Nullable<Text>,
        confirmed_at -> Nullable<BigInt>,
        claimed_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    chats (id) {
        id -> Text,
        kind -> Text,
        name -> Nullable<Text>,
        direct_key -> Nullable<Text>,
        created_by -> Text,
        created_at -> BigInt,
        last_seq -> BigInt,
        last_activity_at -> BigInt,
        last_event_seq -> BigInt,
        description -> Nullable<Text>,
        group_version -> BigInt,
    }
}

diesel::table! {
    chat_events (chat_id, event_seq) {
        chat_id -> Text,
        event_seq -> BigInt,
        kind -> Text,
        actor_id -> Text,
        message_id -> Nullable<Text>,
        created_at -> BigInt,
        payload -> Nullable<Text>,
    }
}

diesel::table! {
    read_positions (chat_id, user_id) {
        chat_id -> Text,
        user_id -> Text,
        delivered_seq -> BigInt,
        read_seq -> BigInt,
        delivered_at -> Nullable<BigInt>,
        read_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    receipt_marks (chat_id, seq, kind, user_id) {
        chat_id -> Text,
        user_id -> Text,
        kind -> Text,
        seq -> BigInt,
        at -> BigInt,
    }
}

diesel::table! {
    chat_members (chat_id, user_id) {
        chat_id -> Text,
        user_id -> Text,
        role -> Text,
        joined_at -> BigInt,
        left_at_seq -> Nullable<BigInt>,
        left_at_event_seq -> Nullable<BigInt>,
    }
}

diesel::table! {
    messages (id) {
        id -> Text,
        chat_id -> Text,
        sender_id -> Text,
        seq -> BigInt,
        content -> Text,
        content_type -> Text,
        client_msg_id -> Nullable<Text>,
        created_at -> BigInt,
        system_info -> Nullable<Text>,
        reply_to_id -> Nullable<Text>,
        forwarded -> Bool,
        edited_at -> Nullable<BigInt>,
        deleted_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    message_edits (message_id, version) {
        message_id -> Text,
        version -> BigInt,
        content -> Text,
        edited_at -> BigInt,
    }
}

diesel::table! {
    message_reactions (message_id, user_id) {
        message_id -> Text,
        user_id -> Text,
        emoji -> Text,
        reacted_at -> BigInt,
    }
}

diesel::table! {
    hidden_messages (user_id, message_id) {
        user_id -> Text,
        message_id -> Text,
        chat_id -> Text,
        hidden_at -> BigInt,
    }
}

diesel::table! {
    contacts (owner_id, contact_id) {
        owner_id -> Text,
        contact_id -> Text,
        alias -> Nullable<Text>,
        added_at -> BigInt,
    }
}

diesel::table! {
    pending_contacts (owner_id, phone) {
        owner_id -> Text,
        phone -> Text,
        alias -> Nullable<Text>,
        added_at -> BigInt,
    }
}

diesel::table! {
    blocks (blocker_id, blocked_id) {
        blocker_id -> Text,
        blocked_id -> Text,
        blocked_at -> BigInt,
    }
}

diesel::table! {
    chat_settings (chat_id, user_id) {
        chat_id -> Text,
        user_id -> Text,
        archived -> Bool,
        muted_until -> Nullable<BigInt>,
        pinned -> Bool,
    }
}

diesel::table! {
    attachments (id) {
        id -> Text,
        uploader_id -> Text,
        kind -> Text,
        mime_type -> Text,
        name -> Text,
        size -> BigInt,
        width -> Nullable<Integer>,
        height -> Nullable<Integer>,
        thumbnail_mime_type -> Nullable<Text>,
        thumbnail_size -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

diesel::table! {
    message_attachments (message_id, attachment_id) {
        message_id -> Text,
        attachment_id -> Text,
        position -> Integer,
    }
}

diesel::joinable!(chat_members -> chats (chat_id));
diesel::joinable!(message_attachments -> messages (message_id));
diesel::joinable!(message_attachments -> attachments (attachment_id));
diesel::joinable!(messages -> chats (chat_id));
diesel::joinable!(chat_events -> chats (chat_id));
diesel::joinable!(chat_events -> messages (message_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(device_links -> sessions (session_id));
diesel::joinable!(user_emails -> users (user_id));
diesel::joinable!(message_edits -> messages (message_id));
diesel::joinable!(message_reactions -> messages (message_id));
diesel::joinable!(hidden_messages -> messages (message_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    user_emails,
    reports,
    audit_log,
    push_subscriptions,
    push_outbox,
    otp_challenges,
    sessions,
    device_links,
    chats,
    chat_members,
    messages,
    chat_events,
    message_edits,
    message_reactions,
    hidden_messages,
    attachments,
    message_attachments
);
