"""plan.attribute_json writes PostgreSQL's own text of the jsonb, whether a row has every attribute or not."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import connection

from mappings.engine.plan import ColumnPlan, _Literals, attribute_json
from mappings.engine.transforms import duckdb_install_macros
from mappings.intake.duck import duckdb_connect_locked

ATTRIBUTES = [
    ColumnPlan("region", "text", "Region", attribute=True),
    ColumnPlan("weight", "number", "Weight", attribute=True),
    ColumnPlan("gift", "boolean", "Gift", attribute=True),
    ColumnPlan("promised", "date", "Promised", attribute=True),
]
ROWS = [
    ('Nord "Ost" \\ é\x01', Decimal("-0.000001"), True, datetime.date(1999, 12, 31)),  # every attribute: one concat
    ("West", Decimal("123456789012.5"), False, datetime.date(2024, 2, 29)),
    ("East", Decimal("0"), None, datetime.date(2024, 1, 1)),  # some missing: the members present, joined
    (None, Decimal("1000000000000.25"), None, None),
    (None, None, None, None),
]


def test_the_json_text_is_postgresqls_with_every_attribute_or_some(db, tmp_path):
    path = tmp_path / "none.csv"
    path.write_text("x\n1\n")
    conn = duckdb_connect_locked(path)
    duckdb_install_macros(conn)
    conn.execute("CREATE TABLE t (__a0 VARCHAR, __a1 DECIMAL(38, 6), __a2 BOOLEAN, __a3 DATE)")
    conn.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", ROWS)
    expression = attribute_json([(a, f"__a{k}") for k, a in enumerate(ATTRIBUTES)], _Literals())
    texts = [row[0] for row in conn.execute(f"SELECT {expression} FROM t ORDER BY rowid").fetchall()]
    conn.close()

    with connection.cursor() as cursor:
        for text in texts:
            cursor.execute("SELECT %s::jsonb::text", [text])
            assert cursor.fetchone()[0] == text
    assert texts[0] == (
        '{"gift": true, "region": "Nord \\"Ost\\" \\\\ é\\u0001", "weight": -0.000001, "promised": "1999-12-31"}'
    )
    assert texts[2] == '{"region": "East", "weight": 0, "promised": "2024-01-01"}'
    assert texts[4] == "{}"
