# A line's amount is the truth when the file gives it; the engine marks the amounts it computed itself
# (amount_computed), for which the revenue rule keeps using quantity x unit price x (1 - discount).
# Lines loaded before this: the old rule preferred that product whenever quantity and unit price were
# both present, so those lines are marked computed and their revenue stays what it was.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("canonical", "0007_orders_sales_rep_index")]

    operations = [
        migrations.AddField(
            model_name="orderline",
            name="amount_computed",
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.RunSQL(
            "UPDATE canonical_order_lines SET amount_computed = true "
            "WHERE quantity IS NOT NULL AND unit_price IS NOT NULL",
            migrations.RunSQL.noop,
        ),
    ]
