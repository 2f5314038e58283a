"""Reads about users. `user_row_scope` is the one answer to "which employees' rows may this user see"."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.db import connection
from django.db.models import QuerySet
from psycopg import sql

from accounts.models import Role, User
from canonical.models import Employee

_SQL_DIR = Path(__file__).parent / "sql"


@cache
def _sql(name: str) -> str:
    return (_SQL_DIR / name).read_text()


@dataclass(frozen=True)
class RowScope:
    """Rows a user may see: every row (`all_rows`), or rows owned by these canonical employee ids.

    An empty scope (not all rows, no ids) sees nothing: access is denied by default.
    """

    all_rows: bool = False
    employee_ids: frozenset[int] = frozenset()

    @property
    def is_empty(self) -> bool:
        return not self.all_rows and not self.employee_ids

    def allows(self, employee_id: int | None) -> bool:
        return self.all_rows or (employee_id is not None and employee_id in self.employee_ids)

    def cache_key(self) -> str:
        """A key that differs whenever the visible rows differ, for caching per scope."""
        if self.all_rows:
            return "all"
        if not self.employee_ids:
            return "none"
        return "ids:" + self.ids_digest()[:16]

    def ids_digest(self) -> str:
        """sha256 of the sorted ids joined by commas. Kept on the scope: a read keys every query by it (a VP's 875 ids
        sorted and hashed once per scope, not once per query)."""
        kept = self.__dict__.get("_ids_digest")
        if kept is None:
            kept = hashlib.sha256(",".join(str(i) for i in sorted(self.employee_ids)).encode()).hexdigest()
            object.__setattr__(self, "_ids_digest", kept)
        return kept

    def with_ids_digest(self, digest: str) -> RowScope:
        """This scope, its ids' digest taken as `digest` (kept with a cached scope: `ids_digest` of the same ids)."""
        object.__setattr__(self, "_ids_digest", digest)
        return self


ALL_ROWS = RowScope(all_rows=True)
NO_ROWS = RowScope()


def user_role_names(user: User) -> set[str]:
    """The names of the user's roles (groups). A user loaded for a request (`user_get_with_access_generation`) carries
    them, read in the same statement as the user; otherwise one query."""
    if not user.is_authenticated:
        return set()
    carried = getattr(user, "role_names", None)
    if isinstance(carried, frozenset):
        return set(carried)
    return set(user.groups.values_list("name", flat=True))


def employee_subtree_ids(employee_id: int) -> frozenset[int]:
    """The employee and everyone below them (the SQL function of accounts/sql/employee_subtree.sql)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT employee_subtree(%s)", [employee_id])
        return frozenset(row[0] for row in cursor.fetchall())


ALL_ROWS_ROLES = (Role.EXECUTIVE, Role.ANALYST)


def user_row_scope(user: User) -> RowScope:
    """Which employees' rows `user` may see.

    Executive and Analyst (and superusers): all rows. Manager: their own employee and everyone
    below them in the manager hierarchy, at any depth. Sales Rep: their own employee's rows.
    Anyone else, or a manager/rep with no linked employee: nothing.

    One query (roles and, for a manager, the subtree): every KPI read starts here, so its cost is
    paid on every widget request. Callers that read several widgets resolve it once and pass it on.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return NO_ROWS
    if user.is_superuser:
        return ALL_ROWS
    with connection.cursor() as cursor:
        cursor.execute(
            _sql("user_row_scope.sql"),
            {
                "user_id": user.pk,
                "employee_id": user.employee_id,
                "subtree_role": str(Role.MANAGER),
                "all_rows_roles": [str(r) for r in ALL_ROWS_ROLES],
            },
        )
        role_list, subtree = cursor.fetchone()
    roles = set(role_list)
    if roles & set(ALL_ROWS_ROLES):
        return ALL_ROWS
    if user.employee_id is None:
        return NO_ROWS
    if Role.MANAGER in roles:
        return RowScope(employee_ids=frozenset(subtree or ()))
    if Role.SALES_REP in roles:
        return RowScope(employee_ids=frozenset({user.employee_id}))
    return NO_ROWS


def access_generation(user: User | None = None) -> int:
    """The access generation (accounts/sql/access_generation.sql): it grows with every committed change of roles, the
    hierarchy, shares, dashboards or widgets, however written. A user loaded for a request
    (`user_get_with_access_generation`) carries the one read with it, in the same query; otherwise one small query.

    Read it BEFORE what it guards (a scope): whatever is read after it is at least as new."""
    carried = getattr(user, "access_generation", None)
    if isinstance(carried, int):
        return carried
    with connection.cursor() as cursor:
        cursor.execute(_sql("access_generation_read.sql"))
        return int(cursor.fetchone()[0])


@cache
def _user_for_request_statement() -> tuple[str, tuple[str, ...]]:
    """(statement, attribute names of its first columns): user_for_request.sql with the user model's columns, composed
    once per process (the ORM compiled the same SELECT on every request)."""
    fields = User._meta.concrete_fields
    text, generation = (
        "\n".join(line for line in _sql(name).splitlines() if not line.startswith("--"))
        for name in ("user_for_request.sql", "access_generation_read.sql")
    )
    statement = sql.SQL(text).format(
        columns=sql.SQL(", ").join(sql.Identifier("u", f.column) for f in fields),
        generation=sql.SQL(generation),  # a constant from our .sql file
    )
    return statement.as_string(None), tuple(f.attname for f in fields)


def user_get_with_access_generation(user_id) -> User | None:
    """The user a session or token names, with the access generation and the user's role names read in the same
    statement (every request loads its user: the cached scope is checked against the generation for free, the site
    menu asks no query for the roles). None when there is no such user.

    The roles are as they were when the request began (as Django keeps a user's permissions for the request)."""
    try:
        pk = int(user_id)
    except (TypeError, ValueError):
        return None
    statement, attnames = _user_for_request_statement()
    with connection.cursor() as cursor:
        cursor.execute(statement, {"user_id": pk})
        row = cursor.fetchone()
    if row is None:
        return None
    user = User.from_db(connection.alias, attnames, row[: len(attnames)])
    user.access_generation = int(row[-2])
    user.role_names = frozenset(row[-1])
    return user


def employees_visible_to(user: User, scope: RowScope | None = None) -> QuerySet[Employee]:
    """The employees whose rows `user` may see (`user_row_scope`), by name: the dashboards' rep and team pickers."""
    scope = scope if scope is not None else user_row_scope(user)
    employees = Employee.objects.filter(is_placeholder=False).order_by("name")
    if scope.all_rows:
        return employees
    return employees.filter(pk__in=scope.employee_ids)


DATA_MANAGER_ROLES = {Role.EXECUTIVE, Role.ANALYST, Role.ADMIN}


def user_can_manage_data(user: User) -> bool:
    """Uploading, mapping and executing change company-wide data: executives, analysts, admins only."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or bool(user_role_names(user) & DATA_MANAGER_ROLES)


def api_token_for_user(user: User):
    """The user's DRF API token, or None."""
    from rest_framework.authtoken.models import Token

    return Token.objects.filter(user=user).first()
