"""Steps every browser test shares."""

from __future__ import annotations


def sign_in(page, base_url: str, username: str, password: str | None = None) -> None:
    """Log in through the login form, as a user does; the demo password unless another is given."""
    if password is None:
        from dashboards.management.commands.seed_demo import DEMO_PASSWORD

        password = DEMO_PASSWORD
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")
