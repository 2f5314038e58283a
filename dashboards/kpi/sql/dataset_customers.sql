-- Customers dataset: each customer with its own rep by name (the scope). Contact columns stay out.
SELECT c.id AS customer_id, c.external_id AS customer_number, c.name AS customer_name,
       COALESCE(NULLIF(c.segment, ''), 'Unassigned') AS segment, c.country, c.city,
       (c.created_at AT TIME ZONE 'UTC')::date AS created_date,
       c.sales_rep_id, COALESCE(e.name, 'Unassigned') AS sales_rep_name,
       c.attributes
FROM canonical_customers c
LEFT JOIN canonical_employees e ON e.id = c.sales_rep_id
