-- Group chats: a description, a version that orders concurrent group changes,
-- former members who keep their history up to the message that recorded their
-- leaving, and system messages that record every change.
ALTER TABLE chats ADD COLUMN description TEXT;
-- Bumped by every change to a group's details or members; a change decided on an
-- older version is refused and decided again.
ALTER TABLE chats ADD COLUMN group_version BIGINT NOT NULL DEFAULT 0;

-- NULL while the member is active; otherwise the seq and event_seq of the system
-- message that recorded their leaving or removal.
ALTER TABLE chat_members ADD COLUMN left_at_seq BIGINT;
ALTER TABLE chat_members ADD COLUMN left_at_event_seq BIGINT;

-- On system messages (content_type 'system'): what happened, as JSON
-- {"action", "actor_id", "user_ids", "role"?}.
ALTER TABLE messages ADD COLUMN system_info TEXT;
