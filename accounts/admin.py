from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = BaseUserAdmin.fieldsets + (("Data access", {"fields": ("employee",)}),)
    list_display = ("username", "email", "employee", "role_list", "is_staff", "is_active")
    list_filter = ("groups", "is_staff", "is_active")
    autocomplete_fields = ("employee",)
    list_select_related = ("employee",)

    @admin.display(description="Roles")
    def role_list(self, obj: User) -> str:
        return ", ".join(g.name for g in obj.groups.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")
