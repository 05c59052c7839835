SELECT post_id, user_id, likes, views, timestamp
FROM posts
WHERE category = 'Tech' AND device = 'Mobile' AND likes >= 9000
ORDER BY timestamp
