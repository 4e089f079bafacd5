"""Rules of DESIGN.md and STYLE.md, enforced the NetBox way: as tests."""

import re
from pathlib import Path

from django.conf import settings

APPS = ["contactcenter", "crm", "routing", "channels_ingress", "copilot", "knowledge", "supervision"]


def _sources():
    for app in APPS:
        for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            if "tests" not in path.parts and "migrations" not in path.parts:
                yield path, path.read_text()


def test_only_realtime_uses_the_channel_layer_to_send():
    offenders = [
        str(path) for path, text in _sources()
        if re.search(r"\bgroup_send\b|get_channel_layer\(", text) and path.name != "realtime.py"
    ]
    assert offenders == []


def test_only_services_publish_events():
    offenders = [
        str(path) for path, text in _sources()
        if re.search(r"(?<![\w.])publish\(", text)
        and path.name != "realtime.py"
        and "services" not in path.stem
        and "services" not in path.parts
    ]
    assert offenders == []


def test_crm_imports_no_app_above_it():
    above = ("routing", "channels_ingress", "copilot", "knowledge", "supervision")
    offenders = [
        str(path) for path, text in _sources()
        if path.is_relative_to(Path(settings.BASE_DIR) / "crm")
        and re.search(rf"^\s*(from|import) ({'|'.join(above)})\b", text, re.M)
    ]
    assert offenders == []


def test_no_sqlite_or_in_memory_channel_layer():
    offenders = [str(path) for path, text in _sources() if "sqlite3" in text or "InMemoryChannelLayer" in text]
    assert offenders == []
