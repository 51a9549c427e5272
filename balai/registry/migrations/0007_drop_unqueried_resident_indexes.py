"""Three resident indexes that no query uses, dropped.

- ``birth_date``: no query looks residents up by birth date alone; the name
  search's age filter narrows candidates found by name (decision 0004);
- ``father_nik`` and ``mother_nik`` (``Meta.indexes``): nothing looks a
  resident up by a parent's NIK (the parents' NIKs are shown and compared
  on a resident already found).

Each was maintained on every resident written: measured on PostgreSQL,
100,000 residents replayed as an import writes them, the resident COPY
took 2.4 -> 1.9 CPU-s without the three (BENCHMARKS.md, "PostgreSQL per row
(session 4)"). Dropping an index rebuilds nothing, on PostgreSQL or SQLite
(where an altered field would rebuild the table and drop the name-search
triggers: so the database side is plain ``DROP INDEX``, and Django's state
moves on separately).
"""

from django.db import migrations, models

# (index name, column), as Django named them in 0001 on both databases.
INDEXES = (
    ("registry_resident_birth_date_8a17637d", "birth_date"),
    ("registry_re_father__9e6107_idx", "father_nik"),
    ("registry_re_mother__80d76f_idx", "mother_nik"),
)


def forward(apps, schema_editor):
    for name, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def backward(apps, schema_editor):
    q = schema_editor.quote_name
    for name, column in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {q(name)} "
            f"ON {q('registry_resident')} ({q(column)})"
        )


class Migration(migrations.Migration):
    dependencies = [("registry", "0006_drop_unused_pattern_indexes")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forward, backward)],
            state_operations=[
                migrations.AlterField(
                    model_name="resident",
                    name="birth_date",
                    field=models.DateField(verbose_name="tanggal lahir"),
                ),
                migrations.RemoveIndex(
                    model_name="resident", name="registry_re_father__9e6107_idx"
                ),
                migrations.RemoveIndex(
                    model_name="resident", name="registry_re_mother__80d76f_idx"
                ),
            ],
        )
    ]
