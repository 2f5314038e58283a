from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        from accounts import login_throttle  # noqa: F401  (connects the failed-login signal receivers)
        from accounts.audit import audit_register_models

        audit_register_models()
