"""Static file URLs (config/staticfiles.py): WhiteNoise's, computed once per name and process."""

from __future__ import annotations

from whitenoise.storage import CompressedStaticFilesStorage

from config.staticfiles import StaticFilesStorage


def test_a_static_url_is_whitenoises_computed_once(monkeypatch):
    computed = []
    original = CompressedStaticFilesStorage.url

    def counted(self, name):
        computed.append(name)
        return original(self, name)

    monkeypatch.setattr(CompressedStaticFilesStorage, "url", counted)
    storage = StaticFilesStorage()
    first = storage.url("js/app.js")
    assert storage.url("js/app.js") == first == original(CompressedStaticFilesStorage(), "js/app.js")
    assert storage.url("css/app.css") == original(CompressedStaticFilesStorage(), "css/app.css")
    assert computed == ["js/app.js", "css/app.css"]


def test_pages_link_the_static_files(client):
    body = client.get("/login/").content.decode()
    assert 'href="/static/css/app.css"' in body and 'src="/static/js/app.js"' in body
