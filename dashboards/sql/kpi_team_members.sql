-- A team aggregate's hierarchy snapshot as (team_id, employee_id) rows: the members its SQL file joins.
(SELECT team_id, unnest(members) AS employee_id FROM kpi_team_snapshots WHERE aggregate_name = {aggregate})
