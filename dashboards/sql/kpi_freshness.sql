-- Freshness of several KPI views in one round trip (every widget read needs it for its cache key):
-- each view's state, if it has one, and the message of its newest open alert.
SELECT v.name,
       s.last_success_at,
       s.consecutive_failures,
       s.last_error,
       s.data_through,
       s.rows,
       (SELECT a.message
        FROM kpi_alerts a
        WHERE a.view_name = v.name AND a.resolved_at IS NULL
        ORDER BY a.raised_at DESC
        LIMIT 1) AS alert
FROM unnest(%(names)s::text[]) AS v(name)
LEFT JOIN kpi_view_states s ON s.view_name = v.name
