from django.contrib import admin

from canonical import models


class CanonicalAdmin(admin.ModelAdmin):
    list_display = ("external_id", "__str__", "is_placeholder", "at_grain", "source", "source_row")
    list_filter = ("is_placeholder", "at_grain")
    search_fields = ("external_id",)
    list_select_related = ("source",)


@admin.register(models.Employee)
class EmployeeAdmin(CanonicalAdmin):
    list_display = ("external_id", "name", "title", "manager", "is_placeholder")
    search_fields = ("external_id", "name", "email")
    list_select_related = ("manager",)


@admin.register(models.Customer)
class CustomerAdmin(CanonicalAdmin):
    search_fields = ("external_id", "name", "email")


for model in (
    models.Supplier,
    models.Product,
    models.Order,
    models.OrderLine,
    models.Invoice,
    models.Payment,
    models.Expense,
    models.Inventory,
):
    admin.site.register(model, CanonicalAdmin)


@admin.register(models.AttributeKey)
class AttributeKeyAdmin(admin.ModelAdmin):
    list_display = ("table", "key", "type", "label", "source", "created_at")
    list_filter = ("table", "type")
    search_fields = ("key", "label")
    list_select_related = ("source",)
    # The type is a promise every loaded value keeps: changing it here would not convert the stored values.
    readonly_fields = ("table", "key", "type", "source", "created_at")
