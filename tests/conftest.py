from __future__ import annotations

import pytest

from tests.factories import Role, northwind_employees, persona


@pytest.fixture
def nw_employees(db):
    return northwind_employees()


@pytest.fixture
def executive(nw_employees):
    return persona("fuller", Role.EXECUTIVE, nw_employees["2"])


@pytest.fixture
def manager(nw_employees):
    return persona("buchanan", Role.MANAGER, nw_employees["5"])


@pytest.fixture
def rep(nw_employees):
    return persona("davolio", Role.SALES_REP, nw_employees["1"])


@pytest.fixture
def outsider(db):
    """Logged in, but with no role and no employee: sees nothing."""
    return persona("outsider", None)


@pytest.fixture(autouse=True)
def _cache_in_use():
    """A test that broke the cache leaves no skip window (dashboards/cache.py) to the next test."""
    from dashboards.cache import cache_reset

    cache_reset()
    yield
    cache_reset()
