"""The name-search index over registry_resident.name_key.

PostgreSQL: pg_trgm and a GIN trigram index (`name_key % query`, similarity).

SQLite: an FTS5 word index over name_key (external content on
registry_resident, content_rowid = rowid), its vocabulary (fts5vocab: each
word and how many residents have it), and a stamp that changes with every
name written, so a process knows when its cached vocabulary is stale.
Triggers keep both in step, so a row written by any path (actions,
bulk_create, sync) is searchable at commit. See docs/decisions/0004.

Later registry migrations depend on this one so the graph never forks. A
later migration that rebuilds registry_resident on SQLite (Django does for
some ALTERs) drops the triggers with the old table: end it with
`RunPython(balai.registry.search.install_search_index)`; the tests check the
triggers are there.
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
