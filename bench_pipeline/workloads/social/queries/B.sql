WITH ranked AS (
  SELECT user_id, post_id, likes,
         ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY likes DESC, timestamp ASC) AS like_rank,
         SUM(views) OVER (PARTITION BY user_id ORDER BY timestamp
                          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running_views
  FROM posts)
SELECT user_id, post_id, likes, like_rank, running_views
FROM ranked WHERE like_rank <= 3 ORDER BY user_id, like_rank
