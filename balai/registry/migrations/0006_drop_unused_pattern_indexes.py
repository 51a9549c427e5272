"""Two pattern (``varchar_pattern_ops``) indexes no query uses, dropped.

On PostgreSQL Django adds a ``_like`` index beside the plain one of every
indexed CharField, for ``LIKE 'x%'`` (startswith) lookups. Two of them serve
none:

- registry_resident.name_key: names are found by equality (``name_key =``,
  ``name_key IN``) on the plain index and by word through the GIN index
  (balai.registry.search, decision 0004); nothing asks for a prefix of it;
- registry_family.kecamatan_code: filtered by equality only (office scope
  filters on the village code, whose pattern index stays).

Each was maintained on every row a bulk import or seed writes (measured on a
20,000-row import: the resident COPY about a tenth faster without the name
one). Only PostgreSQL has them; Django's model state does not change (the
fields stay ``db_index=True``: the plain indexes stay). A later migration that
alters either field on PostgreSQL may make the pattern index again; drop it
again there.
"""

from django.db import migrations

TARGETS = (("registry_resident", "name_key"), ("registry_family", "kecamatan_code"))


def _names(schema_editor):
    return [
        (table, column, schema_editor._create_index_name(table, [column], "_like"))
        for table, column in TARGETS
    ]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _table, _column, name in _names(schema_editor):
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    q = schema_editor.quote_name
    for table, column, name in _names(schema_editor):
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {q(name)} "
            f"ON {q(table)} ({q(column)} varchar_pattern_ops)"
        )


class Migration(migrations.Migration):
    dependencies = [("registry", "0005_leaner_indexes")]

    operations = [migrations.RunPython(forward, backward)]
