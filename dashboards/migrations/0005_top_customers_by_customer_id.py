# The demo "Top customers" widget grouped by customer_name, which merges two customers of the same name into one
# bar: existing widgets with that query rank by customer id and keep showing the name.

from django.db import migrations

OLD = {"group_by": ["customer_name"], "measures": ["revenue"], "order_by": ["-revenue"], "limit": 10}
NEW = {"group_by": ["customer_id", "customer_name"], "measures": ["revenue"], "order_by": ["-revenue"], "limit": 10}


def rank_by_customer_id(apps, schema_editor):
    Widget = apps.get_model("dashboards", "Widget")
    for widget in Widget.objects.filter(data_source__view_name="top_customers"):
        if widget.data_source.get("filters") == OLD:
            widget.data_source = {**widget.data_source, "filters": NEW}
            widget.save(update_fields=["data_source", "updated_at"])


def rank_by_name(apps, schema_editor):
    Widget = apps.get_model("dashboards", "Widget")
    for widget in Widget.objects.filter(data_source__view_name="top_customers"):
        if widget.data_source.get("filters") == NEW:
            widget.data_source = {**widget.data_source, "filters": OLD}
            widget.save(update_fields=["data_source", "updated_at"])


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0004_kpi_order_facts")]

    operations = [migrations.RunPython(rank_by_customer_id, rank_by_name)]
