-- The latest snapshot per product and warehouse against its reorder level.
SELECT DISTINCT ON (i.product_id, COALESCE(i.warehouse, ''))
       i.product_id, COALESCE(i.warehouse, '') AS warehouse, COALESCE(p.name, '') AS product_name,
       COALESCE(p.category, '') AS category, i.snapshot_date, i.quantity_on_hand, i.reorder_level,
       COALESCE(i.quantity_on_hand < i.reorder_level, false) AS below_reorder
FROM canonical_inventory i
LEFT JOIN canonical_products p ON p.id = i.product_id
ORDER BY i.product_id, COALESCE(i.warehouse, ''), i.snapshot_date DESC NULLS LAST, i.id DESC
