"""Dashboards: create them and share them (guardian object permissions)."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from guardian.shortcuts import assign_perm, remove_perm

from accounts.models import User
from dashboards.models import Dashboard

SHARE_LEVELS = {"view": ["view_dashboard"], "change": ["view_dashboard", "change_dashboard"]}


# Paths under /dashboards/ that are pages, not dashboards: a dashboard may not take them as its slug.
RESERVED_SLUGS = {"status", "questions"}
SLUG_ATTEMPTS = 5


def _unique_slug(title: str) -> str:
    base = slugify(title)[:180] or "dashboard"
    slug, n = base, 2
    while slug in RESERVED_SLUGS or Dashboard.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def dashboard_create(*, title: str, owner: User | None, description: str = "", slug: str = "") -> Dashboard:
    """A new, empty dashboard; its owner may view, change and share it.

    Two dashboards created at once with one title both look for a free slug before either is saved: the
    second insert then hits the unique index, and takes the next free slug (in a savepoint) instead of 500.
    """
    title = title.strip()
    if not title:
        raise ValidationError("a dashboard needs a title")
    if slug in RESERVED_SLUGS:
        raise ValidationError(f"the slug {slug!r} is reserved")
    for _attempt in range(SLUG_ATTEMPTS):
        candidate = slug or _unique_slug(title)
        try:
            with transaction.atomic():
                return Dashboard.objects.create(
                    title=title, slug=candidate, description=description, owner=owner, layout={"columns": 12}
                )
        except IntegrityError:
            if not Dashboard.objects.filter(slug=candidate).exists():
                raise  # another constraint: not a slug taken meanwhile
            if slug:  # a slug the caller chose: taken is taken
                raise ValidationError(f"a dashboard with the slug {slug!r} exists already") from None
    raise ValidationError("could not find a free address for this dashboard; try again")


@transaction.atomic
def dashboard_share(*, dashboard: Dashboard, level: str, username: str = "", group_name: str = "") -> str:
    """Grant view (or view + change) on the dashboard to a user or a group. Returns who got it."""
    if level not in SHARE_LEVELS:
        raise ValidationError(f"share level must be one of {', '.join(SHARE_LEVELS)}")
    target: User | Group
    if username:
        target = User.objects.filter(username=username.strip(), is_active=True).first()
        if target is None:
            raise ValidationError(f"no active user named {username.strip()!r}")
    elif group_name:
        target = Group.objects.filter(name=group_name.strip()).first()
        if target is None:
            raise ValidationError(f"no group named {group_name.strip()!r}")
    else:
        raise ValidationError("name a user or a group to share with")
    if level == "view":
        remove_perm("dashboards.change_dashboard", target, dashboard)
    for perm in SHARE_LEVELS[level]:
        assign_perm(f"dashboards.{perm}", target, dashboard)
    return str(target)


@transaction.atomic
def dashboard_unshare(*, dashboard: Dashboard, username: str = "", group_name: str = "") -> None:
    target = (
        User.objects.filter(username=username).first() if username else Group.objects.filter(name=group_name).first()
    )
    if target is None:
        raise ValidationError("no such user or group")
    for perm in ("view_dashboard", "change_dashboard"):
        remove_perm(f"dashboards.{perm}", target, dashboard)
