from django.db import migrations

BUILTIN = [
    ("Available", "available", True),
    ("Busy", "busy", True),
    ("Do not disturb", "dnd", True),
    ("Away", "away", True),
    ("Offline", "offline", True),
    ("Inactive", "inactive", False),
]


def create(apps, schema_editor):
    Presence = apps.get_model("routing", "Presence")
    for name, base, selectable in BUILTIN:
        Presence.objects.update_or_create(
            name=name, defaults={"base": base, "is_builtin": True, "selectable": selectable}
        )


class Migration(migrations.Migration):
    dependencies = [("routing", "0002_routing_model")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
