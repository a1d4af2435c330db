-- A person's email address (at most one), where login codes may go once it is
-- verified; while it is not, its verification code waits hashed here.
CREATE TABLE user_emails (
    user_id          TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    address          TEXT NOT NULL,
    verified_at      BIGINT,
    code_hash        TEXT,
    code_expires_at  BIGINT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL
);
