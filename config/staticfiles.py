"""The static files storage (STORAGES["staticfiles"]): WhiteNoise's compressed storage, each file's URL computed once.

A page writes ~13 `{% static %}` URLs; each was a urljoin and a quote on every request. Without a manifest (file names
are not hashed here) a name's URL depends on nothing but the name and STATIC_URL, so it is kept per process."""

from __future__ import annotations

from whitenoise.storage import CompressedStaticFilesStorage


class StaticFilesStorage(CompressedStaticFilesStorage):
    def url(self, name):
        urls = self.__dict__.setdefault("_urls", {})
        found = urls.get(name)
        if found is None:
            found = urls[name] = super().url(name)
        return found
