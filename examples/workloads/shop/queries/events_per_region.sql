SELECT region, kind, EXTRACT(month FROM ts) AS month, COUNT(*) AS events
FROM events
GROUP BY region, kind, EXTRACT(month FROM ts)
