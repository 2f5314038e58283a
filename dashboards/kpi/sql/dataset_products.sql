-- Products dataset: each product with its supplier by name. No employee column: all-rows scopes only.
SELECT p.id AS product_id, p.external_id AS sku, p.name AS product_name,
       COALESCE(NULLIF(p.category, ''), 'Uncategorized') AS category, p.price, p.cost,
       p.supplier_id, COALESCE(s.name, '') AS supplier_name,
       p.attributes
FROM canonical_products p
LEFT JOIN canonical_suppliers s ON s.id = p.supplier_id
