-- The orders that executions of %(sources)s wrote: the orders they inserted or updated, and the orders of the
-- order lines they inserted or updated (an execution stamps every row it writes with its source: provenance),
-- at most %(cap)s + 1 of each, so that a caller learns "more than it pays to recompute one by one" without
-- reading a huge source to the end. Rows a source wrote in an earlier run are included: recomputing an order
-- that did not change is harmless.
SELECT ARRAY(SELECT o.id FROM canonical_orders o WHERE o.source_id = ANY(%(sources)s::bigint[]) LIMIT %(cap)s + 1),
       ARRAY(SELECT l.order_id FROM canonical_order_lines l
             WHERE l.source_id = ANY(%(sources)s::bigint[]) AND l.order_id IS NOT NULL LIMIT %(line_cap)s + 1)
