"""Keep passage vectors inline in the heap row.

pgvector's type defaults to EXTERNAL storage, so a row with its text and
tsvector (over ~2 kB) has its 1.5 kB vector moved to the TOAST table, and every
exact distance (filtered search, re-scoring) costs a TOAST lookup. PLAIN keeps
it in the row; the text and tsvector are compressed or moved instead.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0004_passage_filter_indexes")]

    operations = [
        migrations.RunSQL(
            [
                "ALTER TABLE knowledge_articlepassage ALTER COLUMN embedding SET STORAGE PLAIN",
                "ALTER TABLE knowledge_resolvedcaseindex ALTER COLUMN embedding SET STORAGE PLAIN",
            ],
            [
                "ALTER TABLE knowledge_articlepassage ALTER COLUMN embedding SET STORAGE EXTERNAL",
                "ALTER TABLE knowledge_resolvedcaseindex ALTER COLUMN embedding SET STORAGE EXTERNAL",
            ],
        ),
    ]
