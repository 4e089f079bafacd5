from django.db import migrations


def create(apps, schema_editor):
    CapacityProfile = apps.get_model("routing", "CapacityProfile")
    CapacityProfile.objects.update_or_create(
        name="Escalation", defaults={"default_limit": 1, "reset": "immediate", "is_builtin": True}
    )


class Migration(migrations.Migration):
    dependencies = [("routing", "0009_escalation_profile_and_call_mode")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
