"""Read-side and team aggregates of a KPI view, kept in line with its rows in the refresh's transaction."""

from __future__ import annotations

from datetime import date

from django.db import connection
from psycopg import sql

from dashboards.kpi.registry import (
    TEAM_SNAPSHOTS,
    KpiView,
    aggregates_of,
    get_view,
    stored_distinct,
    team_stored_distinct,
)
from dashboards.services.refresh.partitions import (
    _columns,
    _delete_emptied,
    _engine_sql,
    _execute,
    _rebuild_partitions,
    _select,
    view_sql,
)


def _old_sums(aggregate: KpiView) -> sql.Identifier:
    return sql.Identifier(f"kpi_old_{aggregate.name}")


def _months_rows(view: KpiView, key: str) -> sql.Composable:
    """The view's rows of the months in %(months)s, named like the view (an aggregate's `{source}`)."""
    return sql.SQL("(SELECT * FROM {view} WHERE {key} = ANY(%(months)s::date[])) AS {view}").format(
        view=sql.Identifier(view.name), key=sql.Identifier(key)
    )


def _aggregates_before(view: KpiView, months: list[date]) -> None:
    """Before a month-partitioned view recomputes `months`: what those months add to each aggregate that drops
    the month (each rep's months summed; an all-time membership: its membership table's months summed), so that
    `_aggregates_refresh` adds only the difference (new - old)."""
    for aggregate in aggregates_of(view):
        source = get_view(aggregate.summed_from) if aggregate.summed_from else view
        skipped = aggregate.partition_key or aggregate.team_of or aggregate.membership or aggregate.kept
        # Team rows summed from an all-time aggregate are summed again from it (`_team_rows_refresh`): no old sums.
        if aggregate.kept or aggregate.team_of or (not aggregate.summed_from and skipped):
            continue
        old = _old_sums(aggregate)
        _execute(sql.SQL("DROP TABLE IF EXISTS {}").format(old))
        _execute(
            sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS {}").format(
                old, sql.SQL(view_sql(aggregate.name)).format(source=_months_rows(source, source.partition_key))
            ),
            {"months": months},
        )


def _aggregate_select(aggregate: KpiView, source: sql.Composable) -> sql.Composable:
    """An aggregate's SQL file summing `source` (a team aggregate's also joins its hierarchy snapshot)."""
    text = sql.SQL(view_sql(aggregate.name))
    if aggregate.team_of:
        members = _engine_sql("kpi_team_members.sql").format(aggregate=sql.Literal(aggregate.name))
        return text.format(source=source, members=members)
    return text.format(source=source)


def _team_snapshot_rebuild(aggregate: KpiView) -> None:
    """Take the hierarchy a team aggregate is (re)built with from canonical_employees, in the refresh's transaction."""
    _execute(
        sql.SQL("DELETE FROM {} WHERE aggregate_name = %(aggregate)s").format(sql.Identifier(TEAM_SNAPSHOTS)),
        {"aggregate": aggregate.name},
    )
    _execute(
        _engine_sql("kpi_team_snapshot.sql"),
        {
            "aggregate": aggregate.name,
            "first_line": aggregate.first_line_teams,
            "below_top": aggregate.teams_below_top,
        },
    )


def _aggregates_refresh(view: KpiView, *, full: bool, months: list[date], rebuild: set[str] = frozenset()) -> None:
    """Bring the view's read-side aggregates (registry: `aggregate_of`) in line with its rows, in its transaction.

    An aggregate's SQL file sums `{source}`: the whole view to rebuild it (full refresh, or an aggregate named in
    `rebuild`: a team aggregate whose hierarchy changed), or for an incremental refresh only the view's rows that
    changed groups of the aggregate hold:
    - it keeps the month: the refreshed months' rows, which replace those months;
    - it sums a rollup's entities over reps (all reps, or per team): the rollup's own difference per entity
      (`kpi_delta` of `_rollup_incremental`) is added (`_aggregate_add_rollup_delta`, `_team_add_rollup_delta`);
    - it drops the month (each rep's months summed): the refreshed months' rows minus what they summed to
      before (`_aggregates_before`), added to the stored sums; a group whose count reaches 0 goes. A month
      changes nearly every rep, so the difference is the cheap way, as for the rollups.
    A membership table (`membership`) is selected from the order facts for the same months, or all of them; an
    all-time one (`summed_from`) gets that table's difference for the months, as an aggregate dropping the month.
    Distinct counts an aggregate stores (`distinct_from`) are counted again after its sums (`_distinct_recount`).
    A team aggregate's rebuild takes its hierarchy snapshot again first (`_team_snapshot_rebuild`).
    """
    parent = sql.Identifier(view.name)
    # An all-time membership is rebuilt with the membership table it sums.
    rebuilt = {a.name for a in aggregates_of(view) if full or a.name in rebuild or a.summed_from in rebuild}
    # A kept question's team rows are summed from its summary: after it, whatever order they were registered in.
    for aggregate in sorted(aggregates_of(view), key=lambda a: bool(a.kept and a.summed_from)):
        _aggregate_refresh(view, aggregate, parent, full=aggregate.name in rebuilt, months=months)
    # After every sum: the counts read the all-time membership, refreshed in the loop. Incrementally, only the keys
    # whose pairs the refresh added or deleted (`_pairs_refresh`) can have another count.
    for aggregate in aggregates_of(view):
        if not aggregate.distinct_from or not (full or months or aggregate.name in rebuild):
            continue
        members = get_view(aggregate.distinct_from)
        everything = aggregate.name in rebuilt or members.name in rebuilt or members.measures
        _distinct_recount(aggregate, changed=None if everything else _changed_pairs(members))


def _aggregate_refresh(view: KpiView, aggregate: KpiView, parent: sql.Identifier, *, full: bool, months) -> None:
    """One aggregate of `_aggregates_refresh`: rebuilt (`full`) or brought in line with the refreshed months."""
    if aggregate.kept and aggregate.summed_from:
        _kept_teams_refresh(aggregate, full=full, months=months)
        return
    if aggregate.team_of and aggregate.summed_from:  # team rows of a per-rep all-time aggregate (refreshed before)
        _team_rows_refresh(aggregate, full=full, months=months)
        return
    if aggregate.summed_from:  # an all-time membership: its membership table (refreshed just before) summed
        members = get_view(aggregate.summed_from)
        if full:
            table = sql.Identifier(aggregate.name)
            _execute(sql.SQL("DELETE FROM {}").format(table))
            _execute(
                sql.SQL("INSERT INTO {} ({}) {}").format(
                    table, _columns(aggregate), _aggregate_select(aggregate, sql.Identifier(members.name))
                )
            )
        elif months and not aggregate.measures:
            _pairs_refresh(members, aggregate, months)
        elif months:
            _aggregate_add_difference(members, aggregate, months)
        return
    if aggregate.membership:  # selected from the order facts, month by month like the view itself
        if full:
            _rebuild_partitions(aggregate, None)
        elif months:
            _rebuild_partitions(aggregate, months)
        return
    table = sql.Identifier(aggregate.name)
    columns = _columns(aggregate)
    if full:
        if aggregate.team_of:
            _team_snapshot_rebuild(aggregate)
        _execute(sql.SQL("DELETE FROM {}").format(table))
        _execute(sql.SQL("INSERT INTO {} ({}) {}").format(table, columns, _aggregate_select(aggregate, parent)))
        return
    if not months:
        return
    if aggregate.partition_key:
        in_months = sql.SQL("{} = ANY(%(months)s::date[])").format(sql.Identifier(aggregate.partition_key))
        _execute(sql.SQL("DELETE FROM {} WHERE {}").format(table, in_months), {"months": months})
        source = _months_rows(view, aggregate.partition_key)
        _execute(
            sql.SQL("INSERT INTO {} ({}) {}").format(table, columns, _aggregate_select(aggregate, source)),
            {"months": months},
        )
    elif view.rollup_of and aggregate.team_of:
        _team_add_rollup_delta(view, aggregate)
    elif view.rollup_of:
        _aggregate_add_rollup_delta(view, aggregate)
    else:
        _aggregate_add_difference(view, aggregate, months)


def _kept_teams_refresh(aggregate: KpiView, *, full: bool, months: list[date]) -> None:
    """A kept question's team rows (`dashboards.kpi.kept`), summed from its summary's rows (refreshed just before,
    earlier in registry order): rebuilt with a new hierarchy snapshot, or the refreshed months replaced."""
    table = sql.Identifier(aggregate.name)
    summary = get_view(aggregate.summed_from)
    columns = _columns(aggregate)
    if full:
        _team_snapshot_rebuild(aggregate)
        _execute(sql.SQL("DELETE FROM {}").format(table))
        source = sql.Identifier(summary.name)
        _execute(sql.SQL("INSERT INTO {} ({}) {}").format(table, columns, _aggregate_select(aggregate, source)))
    elif months and aggregate.partition_key:
        in_months = sql.SQL("{} = ANY(%(months)s::date[])").format(sql.Identifier(aggregate.partition_key))
        _execute(sql.SQL("DELETE FROM {} WHERE {}").format(table, in_months), {"months": months})
        source = _months_rows(summary, aggregate.partition_key)
        _execute(
            sql.SQL("INSERT INTO {} ({}) {}").format(table, columns, _aggregate_select(aggregate, source)),
            {"months": months},
        )


def _team_rows_refresh(aggregate: KpiView, *, full: bool, months: list[date]) -> None:
    """Team rows summed from a per-rep all-time aggregate (`summed_from`: one row per rep, a few thousand at 10M
    orders), with the distinct counts their SQL file takes from the view's all-time membership table.

    Rebuilt (`full`) with a new hierarchy snapshot; else, after a refresh of months, in two steps that write only
    what changed: the sums of every (team, group) again from the all-time aggregate (small: summing it is cheaper
    than any difference), upserted where they differ, and groups no rep holds any more deleted; then the distinct
    count of each group a changed pair of the membership table (`_changed_pairs`, kept by `_pairs_refresh`) or a new
    group touches, counted over the pairs of that team's reps of the group (found in the all-time aggregate).
    """
    table, source = sql.Identifier(aggregate.name), sql.Identifier(aggregate.summed_from)
    if full:
        _team_snapshot_rebuild(aggregate)
        _execute(sql.SQL("DELETE FROM {}").format(table))
        _execute(
            sql.SQL("INSERT INTO {} ({}) {}").format(table, _columns(aggregate), _aggregate_select(aggregate, source))
        )
        return
    if not months:
        return
    rep = sql.Identifier(aggregate.team_of)
    groups = [sql.Identifier(k) for k in aggregate.key if k != "team_id"]
    spec = team_stored_distinct(aggregate)
    counted = [sql.Identifier(c) for c in spec]
    measures = [sql.Identifier(m) for m in aggregate.measures]
    members = _engine_sql("kpi_team_members.sql").format(aggregate=sql.Literal(aggregate.name))
    same = sql.SQL(" AND ").join(
        [sql.SQL("t.team_id = s.team_id"), *(sql.SQL("t.{0} IS NOT DISTINCT FROM s.{0}").format(g) for g in groups)]
    )
    _execute(sql.SQL("DROP TABLE IF EXISTS kpi_team_sums"))
    _execute(
        sql.SQL(
            "CREATE TEMP TABLE kpi_team_sums ON COMMIT DROP AS SELECT m.team_id, {groups}, {sums} "
            "FROM {source} a JOIN {members} m ON m.employee_id = a.{rep} GROUP BY m.team_id, {groups}"
        ).format(
            groups=sql.SQL(", ").join(groups),
            sums=sql.SQL(", ").join(sql.SQL("sum(a.{0}) AS {0}").format(m) for m in measures),
            source=source,
            members=members,
            rep=rep,
        )
    )
    _execute(
        sql.SQL(
            "INSERT INTO {table} AS t (team_id, {groups}, {measures}) SELECT team_id, {groups}, {measures} "
            "FROM kpi_team_sums ON CONFLICT (team_id, {groups}) DO UPDATE SET {sets} "
            "WHERE ({old}) IS DISTINCT FROM ({new})"
        ).format(
            table=table,
            groups=sql.SQL(", ").join(groups),
            measures=sql.SQL(", ").join(measures),
            sets=sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(m) for m in measures),
            old=sql.SQL(", ").join(sql.SQL("t.{}").format(m) for m in measures),
            new=sql.SQL(", ").join(sql.SQL("EXCLUDED.{}").format(m) for m in measures),
        )
    )
    _execute(sql.SQL("DELETE FROM {} t WHERE NOT EXISTS (SELECT 1 FROM kpi_team_sums s WHERE {})").format(table, same))
    # The groups whose distinct count may differ: those of a changed pair's rep in each of its teams, and new ones.
    pairs = get_view(get_view(aggregate.summed_from).distinct_from)
    changed = _changed_pairs(pairs)
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"pg_temp.{_changed_pairs_name(pairs)}"])
        (kept,) = cursor.fetchone()
    touched = sql.SQL("SELECT team_id, {} FROM {} WHERE {}").format(
        sql.SQL(", ").join(groups), table, sql.SQL(" OR ").join(sql.SQL("{} IS NULL").format(c) for c in counted)
    )
    if kept:
        touched += sql.SQL(" UNION SELECT m.team_id, {} FROM {} c JOIN {} m ON m.employee_id = c.{}").format(
            sql.SQL(", ").join(sql.SQL("c.{}").format(g) for g in groups), changed, members, rep
        )
    else:  # the membership table was rebuilt (no record of its changes): every group
        touched = sql.SQL("SELECT team_id, {} FROM {}").format(sql.SQL(", ").join(groups), table)
    counts = []
    for name, measure in spec.items():
        entity, where = (measure, None) if isinstance(measure, str) else (measure["of"], measure.get("where"))
        count = sql.SQL("count(DISTINCT p.{})").format(sql.Identifier(entity))
        if where:
            count += sql.SQL(" FILTER (WHERE p.{})").format(sql.Identifier(where))
        counts.append(sql.SQL("{} AS {}").format(count, sql.Identifier(name)))
    # Each touched group's reps in its team (the all-time aggregate: one row per rep; its group columns are never
    # NULL, a rep's name is 'Unassigned' at worst, so `=` joins by hash), then their pairs by the pair index; a group
    # of no pairs counts 0, as the SQL file's LEFT JOIN gives it.
    _execute(
        sql.SQL(
            "UPDATE {table} t SET {sets} FROM (SELECT g.team_id, {g_groups}, {counts} FROM ({touched}) g "
            "LEFT JOIN ({source} a JOIN {members} m ON m.employee_id = a.{rep}) ON m.team_id = g.team_id AND {a_same} "
            "LEFT JOIN {pairs} p ON p.{rep} = a.{rep} GROUP BY g.team_id, {g_groups}) s "
            "WHERE {same} AND ({differs})"
        ).format(
            table=table,
            sets=sql.SQL(", ").join(sql.SQL("{0} = s.{0}").format(c) for c in counted),
            g_groups=sql.SQL(", ").join(sql.SQL("g.{}").format(g) for g in groups),
            counts=sql.SQL(", ").join(counts),
            touched=touched,
            source=source,
            members=members,
            rep=rep,
            a_same=sql.SQL(" AND ").join(sql.SQL("a.{0} = g.{0}").format(g) for g in groups),
            pairs=sql.Identifier(pairs.name),
            same=same,
            differs=sql.SQL(" OR ").join(sql.SQL("t.{0} IS DISTINCT FROM s.{0}").format(c) for c in counted),
        )
    )


def _changed_pairs(all_time: KpiView) -> sql.Identifier:
    """The temporary table of the pairs `_pairs_refresh` added to or deleted from an all-time membership table."""
    return sql.Identifier(_changed_pairs_name(all_time))


def _changed_pairs_name(all_time: KpiView) -> str:
    return f"kpi_changed_{all_time.name}"


def _pairs_refresh(members: KpiView, aggregate: KpiView, months: list[date]) -> None:
    """Bring an all-time membership table (its key: the pairs of its membership table, no sums) in line with the
    refreshed months: insert the months' pairs it lacks, delete the pairs those months held before
    (`_aggregates_before`) that no month holds now. A month of orders from known pairs writes nothing. The pairs
    added or deleted are kept (`_changed_pairs`): only their keys' distinct counts can change."""
    table, changed, old = sql.Identifier(aggregate.name), _changed_pairs(aggregate), _old_sums(aggregate)
    columns = _columns(aggregate)
    keys = [sql.Identifier(k) for k in aggregate.key]
    _execute(sql.SQL("DROP TABLE IF EXISTS {}").format(changed))
    _execute(sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT * FROM {} WITH NO DATA").format(changed, table))
    select = sql.SQL(view_sql(aggregate.name)).format(source=_months_rows(members, members.partition_key))
    _execute(
        sql.SQL(
            "WITH added AS (INSERT INTO {table} ({columns}) {select} ON CONFLICT ({keys}) DO NOTHING "
            "RETURNING {columns}) INSERT INTO {changed} ({columns}) SELECT {columns} FROM added"
        ).format(table=table, columns=columns, select=select, keys=sql.SQL(", ").join(keys), changed=changed),
        {"months": months},
    )
    # Held before, held by no month now; `=` on keys without a NULL (the membership table's pair index), then the
    # pairs with one (orders without a rep or customer) matched with IS NOT DISTINCT FROM. Months new to the data
    # held nothing before: nothing to look for (an unanalyzed empty table still got a scan of every pair).
    has_null = sql.SQL(" OR ").join(sql.SQL("o.{} IS NULL").format(k) for k in keys)
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("SELECT count(*) FILTER (WHERE NOT ({0})), count(*) FILTER (WHERE {0}) FROM {1} o").format(
                has_null, old
            )
        )
        held = cursor.fetchone()
    if any(held):
        _execute(sql.SQL("ANALYZE {}").format(old))
    for null_part, count in zip((False, True), held, strict=True):
        if not count:
            continue
        same = sql.SQL(" IS NOT DISTINCT FROM " if null_part else " = ")
        match_old = sql.SQL(" AND ").join(sql.SQL("p.{0}{1}o.{0}").format(k, same) for k in keys)
        match_members = sql.SQL(" AND ").join(sql.SQL("m.{0}{1}o.{0}").format(k, same) for k in keys)
        _execute(
            sql.SQL(
                "WITH gone AS (DELETE FROM {table} p USING {old} o WHERE {match_old} AND {nulls} "
                "AND NOT EXISTS (SELECT 1 FROM {members} m WHERE {match_members}) RETURNING {returned}) "
                "INSERT INTO {changed} ({columns}) SELECT {columns} FROM gone"
            ).format(
                table=table,
                old=old,
                match_old=match_old,
                nulls=sql.SQL("({})").format(has_null) if null_part else sql.SQL("NOT ({})").format(has_null),
                members=sql.Identifier(members.name),
                match_members=match_members,
                returned=sql.SQL(", ").join(sql.SQL("p.{}").format(sql.Identifier(c)) for c in aggregate.columns),
                changed=changed,
                columns=columns,
            )
        )


def _distinct_recount(aggregate: KpiView, changed: sql.Identifier | None = None) -> None:
    """Count the distinct measures an aggregate stores (`distinct_from`) from its all-time membership table, per key
    (only the keys of the `changed` pairs, when given).

    Distinct counts do not add up, so the refresh's sums leave them NULL; they are counted here: one pass over the
    membership table (a few hundred thousand rows at 1M orders), joined by hash on keys without a NULL. Keys with a
    NULL (orders without a rep), and rows the pass left NULL, are counted on their own. An entity is unique per key
    of the membership table, so where the aggregate's key and the entity cover it, a plain count is the distinct
    count.
    """
    members = get_view(aggregate.distinct_from)
    table, source = sql.Identifier(aggregate.name), sql.Identifier(members.name)
    keys = [sql.Identifier(k) for k in aggregate.key]
    counts, names = [], []
    for name, spec in stored_distinct(aggregate).items():
        entity, where = (spec, None) if isinstance(spec, str) else (spec["of"], spec.get("where"))
        unique = set(members.key) <= set(aggregate.key) | {entity}
        counted = sql.SQL("count({}{})").format(sql.SQL("" if unique else "DISTINCT "), sql.Identifier(entity))
        if where:
            counted += sql.SQL(" FILTER (WHERE {})").format(sql.Identifier(where))
        counts.append(sql.SQL("{} AS {}").format(counted, sql.Identifier(name)))
        names.append(sql.Identifier(name))
    matched = [sql.SQL("a.{0} = n.{0}").format(k) for k in keys]
    differs = sql.SQL(" OR ").join(sql.SQL("a.{0} IS DISTINCT FROM n.{0}").format(n) for n in names)
    where = sql.SQL("")
    if changed is not None and keys:
        where = sql.SQL("WHERE ({}) IN (SELECT {} FROM {})").format(
            sql.SQL(", ").join(keys), sql.SQL(", ").join(keys), changed
        )
    elif changed is not None:
        where = sql.SQL("WHERE EXISTS (SELECT 1 FROM {})").format(changed)
    _execute(
        sql.SQL(
            "UPDATE {table} a SET {sets} FROM (SELECT {select} FROM {source} {where} {group}) n WHERE {matched}"
        ).format(
            table=table,
            sets=sql.SQL(", ").join(sql.SQL("{0} = n.{0}").format(n) for n in names),
            select=sql.SQL(", ").join([*keys, *counts]),
            source=source,
            where=where,
            group=sql.SQL("GROUP BY {}").format(sql.SQL(", ").join(keys)) if keys else sql.SQL(""),
            matched=sql.SQL(" AND ").join([*matched, sql.SQL("({})").format(differs)]),
        )
    )
    same_key = [sql.SQL("m.{0} IS NOT DISTINCT FROM a.{0}").format(k) for k in keys]
    left = [sql.SQL("a.{} IS NULL").format(n) for n in names]
    null_keys = [sql.SQL("a.{} IS NULL").format(k) for k in keys]
    if null_keys and changed is not None:
        in_changed = sql.SQL(" AND ").join(sql.SQL("c.{0} IS NOT DISTINCT FROM a.{0}").format(k) for k in keys)
        null_keys = [
            sql.SQL("(({}) AND EXISTS (SELECT 1 FROM {} c WHERE {}))").format(
                sql.SQL(" OR ").join(null_keys), changed, in_changed
            )
        ]
    left += null_keys
    _execute(
        sql.SQL("UPDATE {table} a SET ({names}) = (SELECT {counts} FROM {source} m WHERE {same}) WHERE {left}").format(
            table=table,
            names=sql.SQL(", ").join(names),
            counts=sql.SQL(", ").join(counts),
            source=source,
            same=sql.SQL(" AND ").join(same_key) if same_key else sql.SQL("TRUE"),
            left=sql.SQL(" OR ").join(left),
        )
    )


def _aggregate_add_rollup_delta(view: KpiView, aggregate: KpiView) -> None:
    """Add the rollup's per-entity difference (`kpi_delta`: new - old per entity and rep) to an aggregate of its
    entities over reps (top customers): existing entities get the summed difference; entities new to the
    aggregate are summed from the rollup's rows (with their names); an entity whose count reaches 0 goes.
    Costs one row write per changed entity, like the rollup's own upsert. A NULL entity (orders without a
    customer) is recomputed on its own (`=` does not match NULL)."""
    table, parent = sql.Identifier(aggregate.name), sql.Identifier(view.name)
    key = sql.Identifier(aggregate.key[0])
    sums = sql.SQL(", ").join(sql.SQL("sum({0}) AS {0}").format(sql.Identifier(m)) for m in aggregate.measures)
    _execute(sql.SQL("DROP TABLE IF EXISTS kpi_aggregate_delta"))
    _execute(
        sql.SQL(
            "CREATE TEMP TABLE kpi_aggregate_delta ON COMMIT DROP AS SELECT {k}, {sums} FROM kpi_delta GROUP BY {k}"
        ).format(k=key, sums=sums)
    )
    _execute(
        sql.SQL("UPDATE {t} SET {updates} FROM kpi_aggregate_delta d WHERE {t}.{k} = d.{k}").format(
            t=table,
            k=key,
            updates=sql.SQL(", ").join(
                sql.SQL("{0} = {1}.{0} + d.{0}").format(sql.Identifier(m), table) for m in aggregate.measures
            ),
        )
    )
    new_entities = sql.SQL(
        "SELECT * FROM {p} WHERE {k} IN (SELECT d.{k} FROM kpi_aggregate_delta d "
        "WHERE NOT EXISTS (SELECT 1 FROM {t} WHERE {t}.{k} = d.{k}))"
    ).format(p=parent, t=table, k=key)
    null_touched = sql.SQL("EXISTS (SELECT 1 FROM kpi_aggregate_delta WHERE {} IS NULL)").format(key)
    _execute(sql.SQL("DELETE FROM {} WHERE {} IS NULL AND {}").format(table, key, null_touched))
    null_entity = sql.SQL("SELECT * FROM {} WHERE {} IS NULL AND {}").format(parent, key, null_touched)
    source = sql.SQL("({} UNION ALL {}) AS {}").format(new_entities, null_entity, parent)
    _execute(
        sql.SQL("INSERT INTO {} ({}) {}").format(
            table, _columns(aggregate), sql.SQL(view_sql(aggregate.name)).format(source=source)
        )
    )
    _delete_emptied(aggregate)


def _team_add_rollup_delta(view: KpiView, aggregate: KpiView) -> None:
    """Add the rollup's difference (`kpi_delta`: new - old per entity and rep) to each team of each rep, as the
    aggregate's hierarchy snapshot has them (a rep is in a handful of teams: its manager's, their VP's, the CEO's;
    in one with first-line teams only).

    One upsert of the differences summed per team and entity: an existing group gets its difference added; a group
    new to a team had no sum there, so its difference IS its sum. The rows go through the view's own SQL (the team
    standing in for the rep), which gives them the entity's attributes (names...) exactly as the view's own upsert
    takes them. Costs one row write per changed (team, entity); nothing is summed again from the view's rows. A
    group whose count reaches 0 goes, as a full rebuild would drop it.
    """
    table = sql.Identifier(aggregate.name)
    rep = sql.Identifier(aggregate.team_of)
    entity = [sql.Identifier(k) for k in view.key if k != aggregate.team_of]
    sums = sql.SQL(", ").join(sql.SQL("sum(d.{0}) AS {0}").format(sql.Identifier(m)) for m in view.measures)
    changed = sql.SQL(" OR ").join(sql.SQL("sum(d.{}) <> 0").format(sql.Identifier(m)) for m in view.measures)
    members = _engine_sql("kpi_team_members.sql").format(aggregate=sql.Literal(aggregate.name))
    _execute(sql.SQL("DROP TABLE IF EXISTS kpi_team_delta"))
    _execute(
        sql.SQL(
            "CREATE TEMP TABLE kpi_team_delta ON COMMIT DROP AS "
            "SELECT {entities}, m.team_id AS {rep}, {sums} "
            "FROM kpi_delta d JOIN {members} m ON m.employee_id = d.{rep} "
            "GROUP BY {entities}, m.team_id HAVING {changed}"
        ).format(
            entities=sql.SQL(", ").join(sql.SQL("d.{}").format(e) for e in entity),
            rep=rep,
            sums=sums,
            members=members,
            changed=changed,
        )
    )
    _execute(sql.SQL("ANALYZE kpi_team_delta"))
    outputs = [sql.Identifier(c) for c in aggregate.columns if c != "team_id"]
    updates = [sql.SQL("{0} = {1}.{0} + EXCLUDED.{0}").format(sql.Identifier(m), table) for m in aggregate.measures]
    _execute(
        sql.SQL(
            "INSERT INTO {table} ({columns}) SELECT {rep}, {outputs} FROM ({select}) t "
            "ON CONFLICT ({key}) DO UPDATE SET {updates}"
        ).format(
            table=table,
            columns=_columns(aggregate),
            rep=rep,
            outputs=sql.SQL(", ").join(outputs),
            select=_select(view, source="kpi_team_delta"),
            key=sql.SQL(", ").join(sql.Identifier(k) for k in aggregate.key),
            updates=sql.SQL(", ").join(updates),
        )
    )
    _delete_emptied(aggregate)


def _aggregate_add_difference(view: KpiView, aggregate: KpiView, months: list[date]) -> None:
    table = sql.Identifier(aggregate.name)
    # A stored distinct count is counted after the sums (`_distinct_recount`): an upsert keeps it, a new row has none.
    stored = stored_distinct(aggregate)
    attributes = [c for c in aggregate.columns if c not in aggregate.key and c not in aggregate.measures]
    new = sql.SQL(view_sql(aggregate.name)).format(source=_months_rows(view, view.partition_key))
    # The file selects the aggregate's columns in declaration order: the old sums negated, in the same order.
    negated = sql.SQL("SELECT {} FROM {}").format(
        sql.SQL(", ").join(
            sql.SQL("-{0} AS {0}" if c in aggregate.measures else "{0}").format(sql.Identifier(c))
            for c in aggregate.columns
        ),
        _old_sums(aggregate),
    )
    # Only the groups whose sums changed, as the rollups' difference: a month recomputed without a change rewrote (and
    # re-indexed) a row per group of the month. Exact: attributes (names...) change only with a full refresh.
    select = sql.SQL(
        "SELECT {keys}, {attributes}, {sums} FROM ({new} UNION ALL {negated}) d GROUP BY {keys} HAVING {changed}"
    ).format(
        keys=sql.SQL(", ").join(sql.Identifier(k) for k in aggregate.key),
        attributes=sql.SQL(", ").join(sql.SQL("min({0}) AS {0}").format(sql.Identifier(a)) for a in attributes),
        sums=sql.SQL(", ").join(sql.SQL("sum({0}) AS {0}").format(sql.Identifier(m)) for m in aggregate.measures),
        new=new,
        negated=negated,
        changed=sql.SQL(" OR ").join(sql.SQL("sum({}) <> 0").format(sql.Identifier(m)) for m in aggregate.measures),
    )
    updates = [sql.SQL("{0} = {1}.{0} + EXCLUDED.{0}").format(sql.Identifier(m), table) for m in aggregate.measures]
    updates += [sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(a)) for a in attributes if a not in stored]
    _execute(
        sql.SQL("INSERT INTO {table} ({columns}) {select} ON CONFLICT ({key}) DO UPDATE SET {updates}").format(
            table=table,
            columns=sql.SQL(", ").join(sql.Identifier(c) for c in (*aggregate.key, *attributes, *aggregate.measures)),
            select=select,
            key=sql.SQL(", ").join(sql.Identifier(k) for k in aggregate.key),
            updates=sql.SQL(", ").join(updates),
        ),
        {"months": months},
    )
    _delete_emptied(aggregate)
