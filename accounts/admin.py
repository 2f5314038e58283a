from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy

from accounts.models import ApiToken, User, api_token_key_hint


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


# DRF's TokenAdmin lists every key in clear: whoever may open it could act as any user.
admin.site.unregister(TokenProxy)


@admin.register(ApiToken)
class ApiTokenAdmin(TokenAdmin):
    """Who has a token and since when, with the key's first characters only; revoking is deleting.

    Nobody adds or edits a token here: a user creates their own, shown once (accounts/views.py).
    """

    list_display = ("user", "key_hint", "created")
    list_display_links = ("user",)
    fields = ("user", "key_hint", "created")
    readonly_fields = ("user", "key_hint", "created")

    @admin.display(description="Key")
    def key_hint(self, obj: ApiToken) -> str:
        return api_token_key_hint(obj.key)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
