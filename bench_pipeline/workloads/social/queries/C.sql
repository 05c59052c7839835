SELECT u.tier, p.category, COUNT(*) AS posts, SUM(p.likes) AS total_likes,
       AVG(p.latency) AS avg_latency
FROM posts p JOIN users u ON p.user_id = u.user_id
WHERE p.device = 'Mobile' AND p.error_rate < 0.1
  AND u.followers >= 1000
GROUP BY u.tier, p.category ORDER BY u.tier, p.category
