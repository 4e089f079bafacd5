from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE IF NOT EXISTS crm_case_number_seq START 1",
            "DROP SEQUENCE IF EXISTS crm_case_number_seq",
        ),
    ]
