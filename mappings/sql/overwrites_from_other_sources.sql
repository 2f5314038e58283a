-- Values an execution is about to overwrite on rows that another upload described at the same grain
-- (upsert.overwrites_from_other_sources): two files of one grain that disagree on a column are last-wins, and the
-- report says so. {incoming}: the rows as they will be written (references resolved), one per external_id.
-- {differences}: one VALUES row per column the file writes: (label, stored value as text, incoming value as text,
-- whether a stored value is replaced by a different one); an empty stored value (NULL, or the column's default)
-- is filled, not overwritten. Rows the upload itself wrote last, and placeholders, are not another upload's.
WITH overwrites AS (
    SELECT t.external_id, t.source_id, d.label, d.was, d.now
    FROM {table} t
    JOIN {incoming} s ON s.external_id = t.external_id
    CROSS JOIN LATERAL (VALUES {differences}) AS d(label, was, now, overwritten)
    WHERE d.overwritten AND NOT t.is_placeholder AND t.source_id IS DISTINCT FROM %(source_id)s
      AND t.at_grain = %(at_grain)s
), examples AS (
    SELECT o.external_id, o.label, o.was, o.now, coalesce(u.name, 'a deleted upload') AS source
    FROM overwrites o LEFT JOIN data_sources u ON u.id = o.source_id
    ORDER BY o.external_id, o.label
    LIMIT %(examples)s
)
SELECT (SELECT count(DISTINCT external_id) FROM overwrites),
       (SELECT json_object_agg(label, n) FROM (SELECT label, count(*) AS n FROM overwrites GROUP BY label) c),
       (SELECT json_agg(json_build_object('external_id', external_id, 'column', label, 'was', was, 'now', now,
                                          'source', source) ORDER BY external_id, label) FROM examples)
