-- People a user saved, with an optional alias.
CREATE TABLE contacts (
    owner_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    contact_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    alias       TEXT,
    added_at    BIGINT NOT NULL,
    PRIMARY KEY (owner_id, contact_id)
);

-- Who blocks whom: a blocked person cannot open or write in a direct chat with the blocker.
CREATE TABLE blocks (
    blocker_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_at  BIGINT NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);
