SELECT c.country, COUNT(*) AS orders, SUM(o.amount) AS revenue, SUM(o.quantity) AS items
FROM orders o JOIN customers c ON o.customer_id = c.customer_id
WHERE o.order_date >= DATE '2025-02-01'
GROUP BY c.country
ORDER BY c.country
