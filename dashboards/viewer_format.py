"""Numbers, money and dates as the viewer writes them: the browser's language (Accept-Language) picks the
locale, the data's currency (`canonical.selectors.data_currency`) the symbol.

The same locale reaches the charts: `vega_locale` is the d3-format and d3-time-format definition Vega
formats axis labels and tooltips with (static/js/viewer.js), derived here from CLDR (Babel), so a table
cell and a tooltip write 1.265.793,04 € alike. The page's words stay English.
"""

from __future__ import annotations

import decimal
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_skeleton
from babel.numbers import (
    format_currency,
    format_decimal,
    get_currency_precision,
    get_currency_symbol,
    get_decimal_quantum,
    get_decimal_symbol,
    get_group_symbol,
    get_infinity_symbol,
    parse_pattern,
)
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


def _two_decimals(locale: Locale) -> str:
    """The locale's decimal pattern (positive part) with two decimals: 1.234,50 in German."""
    return re.sub(r"\.[0#]+", ".00", locale.decimal_formats[None].pattern.split(";")[0])


def babel_number(value, locale: Locale, kind: str, currency: str) -> str:
    """What Babel writes for a number of `kind` ("integer": an int; "money": with `currency`; "number": two
    decimals): the reference `_NumberWriter` is tested against."""
    if kind == "integer":
        return format_decimal(value, locale=locale)
    if kind == "money":
        return format_currency(value, currency, locale=locale)
    return format_decimal(value, format=_two_decimals(locale), locale=locale)


_QUOTED = re.compile(r"'([^']*)'")


@dataclass(frozen=True)
class _NumberWriter:
    """Babel's `NumberPattern.apply` for one locale, kind and currency, its pattern parsed and its symbols looked up
    once: a table of 200 rows writes ~600 numbers, and Babel looks the locale's symbols up again for each (12-20 ms
    a table). The same steps in the same order (Decimal of str(value), quantize, group, trim the fraction), so the
    same text; a pattern it does not handle (scientific, significant digits, currency names) goes to Babel."""

    locale: Locale
    kind: str
    currency: str
    prefix: tuple[str, str]
    suffix: tuple[str, str]
    scale: int
    quantum: decimal.Decimal
    frac: tuple[int, int]
    int_min: int
    grouping: tuple[int, int]
    group: str
    decimal_sign: str
    infinity: str
    simple: bool

    def write(self, value) -> str:
        if not self.simple:
            return babel_number(value, self.locale, self.kind, self.currency)
        number = value if isinstance(value, decimal.Decimal) else decimal.Decimal(str(value))
        if self.scale:
            number = number.scaleb(self.scale)
        negative = int(number.is_signed())
        number = abs(number).normalize()
        if number.is_infinite():
            body = self.infinity
        else:
            whole, _, fraction = f"{number.quantize(self.quantum):f}".partition(".")
            body = self._int(whole) + self._frac(fraction or "0")
        text = self.prefix[negative] + body + self.suffix[negative]
        return _QUOTED.sub(lambda m: m.group(1) or "'", text) if "'" in text else text

    def _int(self, digits: str) -> str:
        if len(digits) < self.int_min:
            digits = "0" * (self.int_min - len(digits)) + digits
        size, out = self.grouping[0], ""
        while len(digits) > size:
            out = self.group + digits[-size:] + out
            digits = digits[:-size]
            size = self.grouping[1]
        return digits + out

    def _frac(self, digits: str) -> str:
        low, high = self.frac
        if len(digits) < low:
            digits += "0" * (low - len(digits))
        if high == 0 or (low == 0 and int(digits) == 0):
            return ""
        while len(digits) > low and digits[-1] == "0":
            digits = digits[:-1]
        return self.decimal_sign + digits


@lru_cache(maxsize=512)  # locales come from request headers (bounded by _locale's cache), kinds and currencies few
def _number_writer(locale: Locale, kind: str, currency: str) -> _NumberWriter:
    if kind == "money":
        pattern = locale.currency_formats["standard"]
        frac = (get_currency_precision(currency),) * 2
    else:
        pattern = locale.decimal_formats[None] if kind == "integer" else parse_pattern(_two_decimals(locale))
        frac = pattern.frac_prec
    affixes = "".join(pattern.prefix + pattern.suffix)
    simple = (
        not pattern.exp_prec and "@" not in pattern.pattern and pattern.number_pattern != "" and "¤¤" not in affixes
    )
    symbol = get_currency_symbol(currency, locale) if kind == "money" else ""

    def affix(text: str) -> str:
        return text.replace("¤", symbol) if kind == "money" else text

    return _NumberWriter(
        locale=locale,
        kind=kind,
        currency=currency,
        prefix=(affix(pattern.prefix[0]), affix(pattern.prefix[1])),
        suffix=(affix(pattern.suffix[0]), affix(pattern.suffix[1])),
        scale=pattern.scale,
        quantum=get_decimal_quantum(frac[1]),
        frac=frac,
        int_min=pattern.int_prec[0],
        grouping=pattern.grouping,
        group=get_group_symbol(locale),
        decimal_sign=get_decimal_symbol(locale),
        infinity=get_infinity_symbol(locale),
        simple=simple,
    )


@dataclass(frozen=True)
class ViewerFormat:
    locale: Locale
    currency: str = ""  # ISO 4217 code of the data's money, "" when unknown (then no symbol)

    @property
    def tag(self) -> str:
        return str(self.locale).replace("_", "-")

    def number(self, value: float | int | None, kind: str = "money") -> str:
        """Money with the currency's symbol where the locale puts it; integers without decimals; "—" for none.
        Written as Babel writes it (`babel_number`), with the locale's pattern and symbols looked up once."""
        if value is None:
            return "—"
        if kind == "integer":
            return _number_writer(self.locale, "integer", "").write(round(value))
        if kind in MONEY_KINDS and self.currency:
            return _number_writer(self.locale, "money", self.currency).write(value)
        return _number_writer(self.locale, "number", "").write(value)

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


def viewer_format_for(request, *, reads=None) -> ViewerFormat:
    """The viewer's format for a request: its Accept-Language and the data's currency (kept on the request: the
    first call reads it). `reads`: the request's cache reads made ahead (`dashboards.cache.CacheReads`)."""
    cached = getattr(request, "_viewer_format", None)
    if cached is None:
        locale = viewer_locale(request.headers.get("Accept-Language", ""))
        cached = ViewerFormat(locale=locale, currency=data_currency(reads))
        request._viewer_format = cached
    return cached
