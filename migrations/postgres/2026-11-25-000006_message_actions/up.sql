-- What people do to messages once sent: reply, forward, edit (earlier versions
-- kept), delete for everyone (a placeholder stays), delete for oneself, react.

-- The message of the same chat this one replies to. No foreign key: a message is
-- never removed while its chat exists (deleting for everyone keeps a placeholder).
ALTER TABLE messages ADD COLUMN reply_to_id TEXT;
-- True on a copy made by forwarding.
ALTER TABLE messages ADD COLUMN forwarded BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE messages ADD COLUMN edited_at BIGINT;
-- Set when deleted for everyone; content is then '' and its edits and reactions are gone.
ALTER TABLE messages ADD COLUMN deleted_at BIGINT;

-- The earlier versions of edited messages: version 1 is the text as first sent,
-- replaced at edited_at by the next one.
CREATE TABLE message_edits (
    message_id  TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    version     BIGINT NOT NULL,
    content     TEXT NOT NULL,
    edited_at   BIGINT NOT NULL,
    PRIMARY KEY (message_id, version)
);

-- One reaction per member and message.
CREATE TABLE message_reactions (
    message_id  TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emoji       TEXT NOT NULL,
    reacted_at  BIGINT NOT NULL,
    PRIMARY KEY (message_id, user_id)
);

-- Messages a user deleted for themself only.
CREATE TABLE hidden_messages (
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id  TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    chat_id     TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    hidden_at   BIGINT NOT NULL,
    PRIMARY KEY (user_id, message_id)
);
CREATE INDEX hidden_messages_chat ON hidden_messages (user_id, chat_id);
