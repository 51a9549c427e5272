# Placeholder owned by the search work: it will create the name-search index
# (pg_trgm on PostgreSQL, FTS5 trigram on SQLite). Later registry migrations
# depend on it so the two lines of work never fork the migration graph.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = []
