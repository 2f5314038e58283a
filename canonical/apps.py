from django.apps import AppConfig


class CanonicalConfig(AppConfig):
    name = "canonical"
    verbose_name = "Canonical business data"

    def ready(self) -> None:
        from canonical import receivers  # noqa: F401 - connects the signal receivers
