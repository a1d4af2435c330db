-- Who may see a user's last_seen: 'everyone', 'contacts' (the people they saved) or 'nobody'.
ALTER TABLE users ADD COLUMN last_seen_visibility TEXT NOT NULL DEFAULT 'everyone';
-- "Who saved this user as a contact": presence goes to them, and contacts-only
-- last_seen is checked against it.
CREATE INDEX contacts_by_contact ON contacts (contact_id, owner_id);
