-- The subscriptions of the users in $1 whose device session still holds at $2
-- (Unix microseconds). The audience drives the plan: each user's subscriptions by
-- their index, then each one's session by its key. Joined plainly, the statement's
-- generic plan (it is prepared once and run for every batch of pushes) scanned
-- every session and probed the subscriptions of each: a cost that grew with all
-- the sessions stored rather than with the audience. `OFFSET 0` keeps the planner
-- from flattening the per-user subquery back into that join.
SELECT p.endpoint, p.session_id, p.user_id, p.p256dh, p.auth, p.created_at
FROM (SELECT DISTINCT unnest($1::text[]) AS user_id) AS audience
CROSS JOIN LATERAL (
    SELECT * FROM push_subscriptions
    WHERE push_subscriptions.user_id = audience.user_id
      AND EXISTS (
          SELECT 1 FROM sessions s
          WHERE s.id = push_subscriptions.session_id AND s.revoked_at IS NULL AND s.expires_at > $2
      )
    OFFSET 0
) AS p
