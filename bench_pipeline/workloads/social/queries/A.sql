SELECT category, location, COUNT(*) AS posts, AVG(likes) AS avg_likes,
       SUM(views) AS total_views, AVG(latency) AS avg_latency,
       MAX(error_rate) AS max_error_rate
FROM posts GROUP BY category, location ORDER BY category, location
