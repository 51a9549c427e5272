"""The name-search index over registry_resident.name_key (decision 0004).

A word index and its vocabulary, kept in step with the table by triggers, so
a name written by any path (actions, bulk_create, sync) is searchable at
commit:

- PostgreSQL: a GIN index on to_tsvector('simple', name_key), and the table
  registry_resident_word (every word ever indexed, numbered; the highest
  number tells a process its cached vocabulary is stale), filled by
  statement-level triggers with transition tables;
- SQLite: an FTS5 table (ascii tokenizer, external content on
  registry_resident, content_rowid = rowid), the same vocabulary table
  (words split with json_each), and a stamp its trigger changes when a new
  word arrives.

Later registry migrations depend on this one so the graph never forks. A
later migration that rebuilds registry_resident on SQLite (Django does for
some ALTERs) drops the triggers with the old table: end it with
`RunPython(lambda apps, se: install_search_index(se.connection))` from
balai.registry.search; the tests check the triggers are there.
"""

from django.db import migrations


def forward(apps, schema_editor):
    from balai.registry.search import install_search_index

    install_search_index(schema_editor.connection)


def backward(apps, schema_editor):
    from balai.registry.search import uninstall_search_index

    uninstall_search_index(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
