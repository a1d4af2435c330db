SELECT m.id FROM message_search s
JOIN messages m ON m.id = s.message_id
JOIN chat_members cm ON cm.chat_id = m.chat_id AND cm.user_id = $1 AND cm.left_at_seq IS NULL
WHERE ($2::text IS NULL OR m.chat_id = $2)
  AND m.content_type = 'text'
  AND m.deleted_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.user_id = $1 AND h.message_id = m.id)
  AND (s.content_tsv @@ plainto_tsquery('simple', $3) OR s.content ILIKE $4 ESCAPE '\')
ORDER BY m.created_at + 0 DESC, m.id DESC
LIMIT $5 OFFSET $6