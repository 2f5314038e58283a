from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        from accounts import login_throttle  # noqa: F401  (connects the failed-login signal receivers)
        from accounts.audit import audit_register_models, token_audit_connect
        from accounts.receivers import password_change_connect

        audit_register_models()
        token_audit_connect()
        password_change_connect()
        # Roles get the permissions of models added since they were made (post_migrate: after permissions exist).
        post_migrate.connect(_roles_ensure, sender=self, dispatch_uid="accounts.roles_ensure")


def _roles_ensure(**kwargs) -> None:
    from accounts.services import roles_ensure

    roles_ensure()
