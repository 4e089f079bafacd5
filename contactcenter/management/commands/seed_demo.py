"""``seed_demo``: load the demo company, idempotently, app by app.

Each app that has demo data provides ``<app>/demo.py`` with ``seed(stdout)``;
they run in dependency order so later apps can use what earlier ones created.
"""

from __future__ import annotations

import importlib
import importlib.util

from django.core.management import BaseCommand
from django.db import transaction

DEMO_APPS = ("crm", "routing", "knowledge", "channels_ingress", "copilot", "supervision")


class Command(BaseCommand):
    help = "Load the demo data (Northwind Electronics support). Safe to run repeatedly."

    def handle(self, *args, **options):
        for app in DEMO_APPS:
            if importlib.util.find_spec(f"{app}.demo") is None:
                continue
            with transaction.atomic():
                importlib.import_module(f"{app}.demo").seed(self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data is loaded."))
