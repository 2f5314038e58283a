"""Reads about uploads and mappings. `data_source_get_for_user` is the one access check for a source."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.db.models import IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.http import Http404

from accounts.models import User
from accounts.selectors import user_can_manage_data, user_role_names
from mappings.models import DataSource, ExecutionJob, FieldMapping, Mapping
from mappings.proposer.line_price import PricedKeys
from mappings.proposer.text import normalize_header

DATA_MANAGERS_ONLY = "Only executives, analysts and admins may upload, map and load data."


def require_data_manager(user: User) -> None:
    """Raise PermissionDenied unless `user` may change company-wide data: the check of every mappings page
    and API endpoint (DRF answers Django's PermissionDenied with a 403 carrying this message)."""
    if not user_can_manage_data(user):
        raise PermissionDenied(DATA_MANAGERS_ONLY)


def _sees_all_sources(user: User) -> bool:
    return user.is_superuser or "Admin" in user_role_names(user)


def data_sources_for_user(user: User) -> QuerySet[DataSource]:
    """Uploads the user may see: their own; admins see every upload."""
    if not user_can_manage_data(user):
        return DataSource.objects.none()
    qs = DataSource.objects.all()
    return qs if _sees_all_sources(user) else qs.filter(uploaded_by=user)


def data_sources_with_last_run(user: User) -> QuerySet[DataSource]:
    """`data_sources_for_user` with each upload's latest execution: `last_job_id` and `last_job_rejected`
    (its rejected rows), in the list's one query."""
    last = ExecutionJob.objects.filter(source=OuterRef("pk")).order_by("-created_at")
    rejected = last.annotate(n=Cast(KT("report__rejected_rows"), IntegerField())).values("n")[:1]
    return data_sources_for_user(user).annotate(
        last_job_id=Subquery(last.values("pk")[:1]), last_job_rejected=Subquery(rejected)
    )


def data_source_get_for_user(user: User, source_id: int) -> DataSource:
    """The upload, if the user may see it; 404 otherwise (never reveal that it exists)."""
    try:
        return data_sources_for_user(user).get(pk=source_id)
    except (DataSource.DoesNotExist, ValueError, TypeError):
        raise Http404("No such upload") from None


def mapping_get_for_user(user: User, mapping_id: int) -> Mapping:
    try:
        return Mapping.objects.select_related("source").get(pk=mapping_id, source__in=data_sources_for_user(user))
    except (Mapping.DoesNotExist, ValueError, TypeError):
        raise Http404("No such mapping") from None


def job_get_for_user(user: User, job_id) -> ExecutionJob:
    try:
        return ExecutionJob.objects.select_related("source", "mapping").get(
            pk=job_id, source__in=data_sources_for_user(user)
        )
    except (ExecutionJob.DoesNotExist, ValueError, TypeError):
        raise Http404("No such job") from None


COUNTS = ("inserted", "updated", "unchanged", "rejected")


def job_totals(job: ExecutionJob) -> dict[str, int]:
    """The job's counts summed over its tables."""
    tables = (job.report or {}).get("tables") or {}
    return {k: sum(int(c.get(k) or 0) for c in tables.values()) for k in COUNTS}


def source_executions(source: DataSource, *, limit: int = 50) -> list[dict]:
    """The upload's executions, newest first: {"job", "version", "inserted", "updated", "unchanged",
    "rejected"} (counts summed over its tables)."""
    jobs = source.jobs.select_related("mapping", "created_by").order_by("-created_at")[:limit]
    return [{"job": job, "version": job.mapping.version, **job_totals(job)} for job in jobs]


def source_last_executed_mapping(source: DataSource) -> Mapping | None:
    """The mapping of the upload's latest successful execution: what its loaded rows come from."""
    job = (
        source.jobs.filter(status=ExecutionJob.Status.SUCCEEDED)
        .select_related("mapping")
        .order_by("-created_at")
        .first()
    )
    return job.mapping if job else None


def job_rejected_rows(job: ExecutionJob, *, table: str | None = None) -> QuerySet:
    """The job's rejected rows in file order; only `table`'s when given."""
    rows = job.rejected_rows.order_by("source_row", "pk")
    return rows.filter(canonical_table=table) if table else rows


SAME_LAYOUT = 0.8  # share of headers two files must share (Jaccard) for one's mapping to teach the other


def learned_mappings(*, user=None, headers: list[str] | None = None) -> dict[str, list[dict]]:
    """Headers users mapped before → every target of the latest saved mapping that maps them (a header may have
    several: an order id is the line's order and, concatenated with the item number, the line's key), by exact
    header and by normalized header, learned only from files with the same layout as `headers` (their header sets
    overlap by SAME_LAYOUT): "name" mapped in a customer list says nothing about a product list."""
    # Unmapped columns saved with a version teach nothing: an older version's target for them still does.
    qs = (
        FieldMapping.objects.exclude(source_col=None)
        .exclude(canonical_table=None)
        .order_by("-mapping__created_at", "-mapping_id", "position", "id")
    )
    if user is not None and getattr(user, "is_authenticated", False):
        qs = qs.filter(source__in=data_sources_for_user(user))
    mine = {normalize_header(h) for h in headers or []}
    layouts: dict[int, bool] = {}
    learned: dict[str, list[dict]] = {}
    taught_by: dict[str, int] = {}  # header → the mapping its targets come from
    rows = qs.values(
        "source_col", "canonical_table", "canonical_col", "transform", "source_id", "source__dialect", "mapping_id"
    )
    for fm in rows[:5000]:
        if headers is not None:
            if fm["source_id"] not in layouts:
                theirs = {normalize_header(h) for h in (fm["source__dialect"] or {}).get("columns") or []}
                layouts[fm["source_id"]] = bool(theirs) and len(mine & theirs) / len(mine | theirs) >= SAME_LAYOUT
            if not layouts[fm["source_id"]]:
                continue
        entry = {k: fm[k] for k in ("canonical_table", "canonical_col", "transform")}
        for header in dict.fromkeys((fm["source_col"], normalize_header(fm["source_col"]))):
            if taught_by.setdefault(header, fm["mapping_id"]) == fm["mapping_id"]:
                learned.setdefault(header, []).append(entry)
    return learned


def fields_targets(fields: Iterable[dict], options: dict | None = None) -> dict[str, dict]:
    """{"table.column": {"source_col", "transform"}} of what field mappings (the contract's dicts) load:
    unmapped fields, and columns the options drop, fill no target."""
    dropped = set((options or {}).get("drop_columns") or [])
    return {
        f"{f['canonical_table']}.{f['canonical_col']}": {
            "source_col": f.get("source_col"),
            "transform": f.get("transform"),
        }
        for f in fields
        if f.get("canonical_table") and f.get("canonical_col") and f.get("source_col") not in dropped
    }


def mapping_targets(mapping: Mapping) -> dict[str, dict]:
    """`fields_targets` of a saved mapping (reads `mapping.fields.all()`, so a prefetch serves it)."""
    fields = (
        {
            "source_col": f.source_col,
            "canonical_table": f.canonical_table,
            "canonical_col": f.canonical_col,
            "transform": f.transform,
        }
        for f in mapping.fields.all()  # in position order (Meta.ordering)
    )
    return fields_targets(fields, mapping.options)


def mapping_columns_executed(*, source: DataSource, exclude: Mapping | None = None) -> set[str]:
    """Every "table.column" that a version of the upload's mapping loaded in a succeeded execution."""
    executed = Mapping.objects.filter(source=source, jobs__status=ExecutionJob.Status.SUCCEEDED).distinct()
    if exclude is not None:
        executed = executed.exclude(pk=exclude.pk)
    return {target for mapping in executed.prefetch_related("fields") for target in mapping_targets(mapping)}


KEY_TYPES = ("identifier", "integer", "text", "category")
KEYED_MODELS = ("Customer", "Supplier", "Product", "Order", "Invoice", "Employee")


def known_keys(*, profile: dict) -> dict[str, dict[str, tuple[int, int]]]:
    """For each key-like column of a profiled file, the canonical tables whose external ids its shown
    values (top values and samples) already are: {column: {table: (matched, tried)}}. One query per
    table; the proposer reads a column whose values are a table's keys as a reference to it."""
    from canonical import models as canonical

    shown: dict[str, set[str]] = {}
    for column in profile.get("columns", []):
        if column.get("type") not in KEY_TYPES or column.get("avg_length", 0) > 64:
            continue
        values = {t["value"] for t in column.get("top", [])} | set(column.get("samples", []))
        values = {v.strip() for v in values if v and v.strip()}
        if len(values) >= 3:
            shown[column["name"]] = values
    if not shown:
        return {}
    everything = sorted(set().union(*shown.values()))
    found: dict[str, dict[str, tuple[int, int]]] = {}
    for model_name in KEYED_MODELS:
        model = getattr(canonical, model_name)
        keys = set(model.objects.filter(external_id__in=everything).values_list("external_id", flat=True))
        if not keys:
            continue
        for name, values in shown.items():
            matched = len(values & keys)
            if matched:
                found.setdefault(name, {})[model._meta.db_table] = (matched, len(values))
    return found


PRICED_KEYS_MAX = 100_000  # distinct product keys read from a lines file: a catalogue is rarely bigger


def product_keys_priced(*, file_path: str, dialect: dict, column: str, transform: list | None) -> PricedKeys:
    """How many of the distinct product keys in `column` of the file name a product of canonical_products
    (by external id, else by name, as the execution resolves them) and how many of those have a price; and
    how many products with a price are loaded at all. Reads the whole column (DuckDB) and the catalogue."""
    from django.db.models.functions import Lower

    from canonical.models import Product
    from mappings.engine.line_price import file_distinct_values

    keys = file_distinct_values(
        file_path=file_path, dialect=dialect, column=column, transform=transform, limit=PRICED_KEYS_MAX
    )
    priced = dict(Product.objects.filter(external_id__in=keys).values_list("external_id", "price"))
    by_name = {k.lower(): k for k in keys if k not in priced}
    if by_name:
        named = Product.objects.annotate(key=Lower("name")).filter(key__in=list(by_name))
        for key, price in named.order_by("is_placeholder", "id").values_list("key", "price"):
            priced.setdefault(by_name[key], price)
    return PricedKeys(
        column=column,
        keys=len(keys),
        found=len(priced),
        priced=sum(1 for price in priced.values() if price is not None),
        catalogue=Product.objects.filter(price__isnull=False, is_placeholder=False).count(),
    )


# (money target, key target, the loaded table that holds the same money in units, its money column, per key:
# one value or the sum of the file's rows). A lines file's unit price is its product's price; an order's
# payments add up to its amount.
LOADED_MONEY = (
    (("canonical_order_lines", "unit_price"), ("canonical_order_lines", "product_id"), "Product", "price", False),
    (("canonical_products", "price"), ("canonical_products", "external_id"), "Product", "price", False),
    (("canonical_payments", "amount"), ("canonical_payments", "order_id"), "Order", "amount", True),
)
MINOR_UNIT = 100
MINOR_UNITS_SHARE = 0.95  # of the keys found loaded whose money is 100 × the loaded money
MINOR_UNITS_KEYS = 3  # keys found loaded with money other than zero, for the ratio to say anything
MONEY_KEYS_MAX = 100_000


def money_in_minor_units(*, proposals: list[dict], profile: dict, file_path: str, dialect: dict) -> dict[str, str]:
    """{column: why}: whole-number money columns of the file that are 100 × the same money already loaded in
    units (`LOADED_MONEY`), on nearly every key found loaded (at least a few with money): a lines file's price in
    cents beside the products file's in units. Reads the file's keys and the loaded rows; writes nothing."""
    from canonical import models as canonical
    from mappings.engine.line_price import file_money_by_key

    whole = {c["name"] for c in profile.get("columns", []) if c.get("type") == "integer"}
    by_target = {(p["canonical_table"], p["canonical_col"]): p for p in proposals if p.get("canonical_table")}
    found: dict[str, str] = {}
    for money_target, key_target, model_name, field, total in LOADED_MONEY:
        money, key = by_target.get(money_target), by_target.get(key_target)
        if not money or not key or money.get("source_col") not in whole or not key.get("source_col"):
            continue
        if any(s.get("op") == "divide" for s in money.get("transform") or []):
            continue
        in_file = file_money_by_key(
            file_path=file_path,
            dialect=dialect,
            key=key["source_col"],
            key_transform=key.get("transform"),
            money=money["source_col"],
            total=total,
            limit=MONEY_KEYS_MAX,
        )
        model = getattr(canonical, model_name)
        loaded = dict(
            model.objects.filter(external_id__in=list(in_file), **{f"{field}__isnull": False}).values_list(
                "external_id", field
            )
        )
        pairs = [(in_file[k], v) for k, v in loaded.items() if v]
        cents = sum(1 for f, v in pairs if f == v * MINOR_UNIT)
        if len(pairs) >= MINOR_UNITS_KEYS and cents >= MINOR_UNITS_SHARE * len(pairs):
            label = model_name.lower()
            found[money["source_col"]] = (
                f"'{money['source_col']}' is 100 × the {field} of the {label} already loaded, for {cents} of "
                f"{len(pairs)} {label}s it names by '{key['source_col']}'"
            )
    return found
