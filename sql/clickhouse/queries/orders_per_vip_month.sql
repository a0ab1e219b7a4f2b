-- Orders per VIP level per month: orders, buying customers and revenue per CRM tier.
-- Months are calendar months in Asia/Shanghai (the retailer's time zone). Customers without
-- a CRM tier count as 'none'. Orders of merged customers count once, under the survivor.
SELECT
  toStartOfMonth(o.ordered_at, 'Asia/Shanghai') AS month,
  if(c.vip_level = '', 'none', c.vip_level)     AS vip_level,
  count()                                       AS orders,
  uniqExact(o.customer_id)                      AS customers,
  sum(o.total_amount)                           AS revenue
FROM (SELECT customer_id, ordered_at, total_amount FROM orders_current WHERE ordered_at IS NOT NULL) AS o
ANY LEFT JOIN (SELECT customer_id, vip_level FROM customers_current) AS c USING (customer_id)
GROUP BY month, vip_level
ORDER BY month, vip_level;
