"""Numbers, money and dates as the viewer writes them: the browser's language (Accept-Language) picks the
locale, the data's currency (`canonical.selectors.data_currency`) the symbol.

The same locale reaches the charts: `vega_locale` is the d3-format and d3-time-format definition Vega
formats axis labels and tooltips with (static/js/viewer.js), derived here from CLDR (Babel), so a table
cell and a tooltip write 1.265.793,04 € alike. The page's words stay English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_skeleton
from babel.numbers import format_currency, format_decimal, get_currency_symbol
from django.conf import settings
from django.utils.timezone import is_aware, localtime
from django.utils.translation.trans_real import parse_accept_lang_header

from canonical.selectors import data_currency

MONEY_KINDS = ("money",)
# CLDR date pattern letters → d3-time-format directives (longest first).
_CLDR_TO_D3 = [
    ("yyyy", "%Y"), ("yy", "%y"), ("y", "%Y"), ("MMMM", "%B"), ("MMM", "%b"), ("MM", "%m"), ("M", "%-m"),
    ("LLLL", "%B"), ("LLL", "%b"), ("dd", "%d"), ("d", "%-d"), ("EEEE", "%A"), ("EEE", "%a"), ("HH", "%H"),
    ("H", "%-H"), ("hh", "%I"), ("h", "%-I"), ("mm", "%M"), ("ss", "%S"), ("a", "%p"),
]  # fmt: skip
_CLDR_TOKEN = re.compile("|".join(re.escape(cldr) for cldr, _ in _CLDR_TO_D3) + r"|'[^']*'")


def _d3_time_pattern(cldr: str) -> str:
    directives = dict(_CLDR_TO_D3)

    def replace(match: re.Match) -> str:
        token = match.group(0)
        return token.strip("'") if token.startswith("'") else directives[token]

    return _CLDR_TOKEN.sub(replace, cldr)


@lru_cache(maxsize=256)  # tags come from request headers: bounded
def _locale(tag: str) -> Locale | None:
    try:
        return Locale.parse(tag, sep="-" if "-" in tag else "_")
    except (UnknownLocaleError, ValueError):
        return None


def viewer_locale(accept_language: str) -> Locale:
    """The first language of an Accept-Language header that CLDR knows (with its region), else the site's."""
    for tag, _ in parse_accept_lang_header(accept_language or ""):
        if tag != "*" and (found := _locale(tag)) is not None and found.language not in ("root", "und"):
            if not found.territory and (likely := _locale(_likely_subtag(str(found)))) is not None:
                return likely  # "de" alone writes as Germany does
            return found
    return _locale(settings.LANGUAGE_CODE) or Locale.parse("en_US")


def _likely_subtag(tag: str) -> str:
    from babel.core import get_global

    return get_global("likely_subtags").get(tag, tag)


@dataclass(frozen=True)
class ViewerFormat:
    locale: Locale
    currency: str = ""  # ISO 4217 code of the data's money, "" when unknown (then no symbol)

    @property
    def tag(self) -> str:
        return str(self.locale).replace("_", "-")

    def number(self, value: float | int | None, kind: str = "money") -> str:
        """Money with the currency's symbol where the locale puts it; integers without decimals; "—" for none."""
        if value is None:
            return "—"
        if kind == "integer":
            return format_decimal(round(value), locale=self.locale)
        if kind in MONEY_KINDS and self.currency:
            return format_currency(value, self.currency, locale=self.locale)
        pattern = re.sub(r"\.[0#]+", ".00", self.locale.decimal_formats[None].pattern.split(";")[0])
        return format_decimal(value, format=pattern, locale=self.locale)

    def date(self, value: date | datetime | str | None, *, month: bool = False) -> str:
        """A date as the viewer writes it ("05.05.1997"); a month as "Mai 1997"."""
        if value in (None, ""):
            return ""
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value[:10])
            except ValueError:
                return value
        if isinstance(value, datetime):
            value = value.date()
        if month:
            return format_skeleton("yMMM", value, locale=self.locale)
        return format_date(value, "medium", locale=self.locale)

    def moment(self, value: datetime | None) -> str:
        """A point in time as the viewer writes it ("07.12.2026, 02:40:00" in German), in the site's time zone."""
        if value is None:
            return ""
        return format_datetime(localtime(value) if is_aware(value) else value, "medium", locale=self.locale)

    def vega_locale(self) -> dict:
        """{"tag", "currency", "number": d3-format locale, "time": d3-time-format locale} for static/js/viewer.js."""
        locale = self.locale
        symbols = locale.number_symbols.get("latn", {})
        money = locale.currency_formats["standard"]
        symbol = get_currency_symbol(self.currency, locale=locale) if self.currency else ""
        prefix, suffix = (part.replace("¤", symbol) if symbol else "" for part in (money.prefix[0], money.suffix[0]))
        grouping = money.grouping if money.grouping[0] < 1000 else (3, 3)
        months, days = locale.months["format"], locale.days["format"]
        periods = locale.day_periods.get("format", {}).get("abbreviated", {})
        date_pattern = _d3_time_pattern(locale.date_formats["medium"].pattern)
        time_pattern = _d3_time_pattern(locale.time_formats["medium"].pattern)
        return {
            "tag": self.tag,
            "currency": self.currency,
            "number": {
                "decimal": symbols.get("decimal", "."),
                "thousands": symbols.get("group", ","),
                "grouping": [grouping[0], grouping[1]] if grouping[1] != grouping[0] else [grouping[0]],
                "currency": [prefix, suffix],
                "minus": symbols.get("minusSign", "-"),
            },
            "time": {
                "dateTime": f"{date_pattern} {time_pattern}",
                "date": date_pattern,
                "time": time_pattern,
                "periods": [periods.get("am", "AM"), periods.get("pm", "PM")],
                # CLDR counts days from Monday, d3 from Sunday.
                "days": [days["wide"][(i + 6) % 7] for i in range(7)],
                "shortDays": [days["abbreviated"][(i + 6) % 7] for i in range(7)],
                "months": [months["wide"][i] for i in range(1, 13)],
                "shortMonths": [months["abbreviated"][i] for i in range(1, 13)],
            },
        }


def viewer_format_for(request) -> ViewerFormat:
    """The viewer's format for a request: its Accept-Language and the data's currency."""
    cached = getattr(request, "_viewer_format", None)
    if cached is None:
        locale = viewer_locale(request.headers.get("Accept-Language", ""))
        cached = ViewerFormat(locale=locale, currency=data_currency())
        request._viewer_format = cached
    return cached
