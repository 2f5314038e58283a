"""Reactions to changes Django makes itself (admin forms, password views, `changepassword`), which no
service of ours sees."""

from __future__ import annotations

from django.db.models.signals import post_save


def password_change_connect() -> None:
    from accounts.models import User

    post_save.connect(_password_changed_revokes_api_token, sender=User, dispatch_uid="accounts.password_token")


def _password_changed_revokes_api_token(sender, instance, created: bool, **kwargs) -> None:
    # A new password is the answer to a leak: a token taken with the old one must stop working too.
    # `set_password` leaves the raw password in `_password` until the save that stores it.
    if not created and getattr(instance, "_password", None) is not None:
        from accounts.services import api_token_revoke

        api_token_revoke(user=instance)
