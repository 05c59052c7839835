SELECT COUNT(*) AS rows FROM posts
