-- Takes the due pushes no other instance is sending: rows another transaction
-- holds are skipped, and the taken ones are held until the lease ends.
-- $1 now, $2 lease end, $3 how many (all Unix microseconds but $3).
UPDATE push_outbox SET next_attempt_at = $2
WHERE id IN (
    SELECT id FROM push_outbox
    WHERE next_attempt_at <= $1
    ORDER BY next_attempt_at, id
    LIMIT $3
    FOR UPDATE SKIP LOCKED
)
RETURNING id, endpoint, payload, urgency, topic, created_at, expires_at, attempts
