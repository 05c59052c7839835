WITH monthly AS (
  SELECT customer_id, EXTRACT(year FROM order_date) * 100 + EXTRACT(month FROM order_date) AS month,
         SUM(amount) AS spend
  FROM orders
  GROUP BY customer_id, EXTRACT(year FROM order_date) * 100 + EXTRACT(month FROM order_date)
), ranked AS (
  SELECT customer_id, month, spend,
         ROW_NUMBER() OVER (PARTITION BY month ORDER BY spend DESC, customer_id) AS position
  FROM monthly
)
SELECT month, position, customer_id, spend FROM ranked WHERE position <= 3 ORDER BY month, position
