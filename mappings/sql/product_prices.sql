-- The price of each product a lines file references, as canonical_products holds it at this load
-- (a product_price step: mappings/engine/line_price.py). Products without a price are left out.
SELECT m.ref, p.price
FROM {map} m
JOIN canonical_products p ON p.id = m.id
WHERE p.price IS NOT NULL
