"""Fewer indexes to maintain on every resident and event written.

- NIK and KK number: unique by a constraint instead of `unique=True`, which on
  PostgreSQL also made a pattern (`_like`) index no query uses;
- resident.kecamatan_code: served by the (kecamatan_code, village) index;
- lifeevent.resident: served by the unique (resident, seq) index.

Only PostgreSQL's schema changes. On SQLite an altered field rebuilds the whole
table, which would drop the name-search triggers of migration 0002; there the
old indexes stay (they cost little on a kecamatan node) and only Django's
model state moves on.
"""

import django.db.models.deletion
from django.db import migrations, models

PG_FORWARD = [
    "ALTER TABLE registry_resident DROP CONSTRAINT IF EXISTS registry_resident_nik_key",
    "DROP INDEX IF EXISTS registry_resident_nik_ef9583d6_like",
    "ALTER TABLE registry_resident ADD CONSTRAINT registry_nik_unique UNIQUE (nik)",
    "ALTER TABLE registry_family DROP CONSTRAINT IF EXISTS registry_family_kk_number_key",
    "DROP INDEX IF EXISTS registry_family_kk_number_564cc063_like",
    "ALTER TABLE registry_family ADD CONSTRAINT registry_kk_unique UNIQUE (kk_number)",
    "DROP INDEX IF EXISTS registry_resident_kecamatan_code_5702b346",
    "DROP INDEX IF EXISTS registry_resident_kecamatan_code_5702b346_like",
    "DROP INDEX IF EXISTS registry_lifeevent_resident_id_17764a5d",
]
PG_BACKWARD = [
    "CREATE INDEX IF NOT EXISTS registry_lifeevent_resident_id_17764a5d "
    "ON registry_lifeevent (resident_id)",
    "CREATE INDEX IF NOT EXISTS registry_resident_kecamatan_code_5702b346_like "
    "ON registry_resident (kecamatan_code varchar_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS registry_resident_kecamatan_code_5702b346 "
    "ON registry_resident (kecamatan_code)",
    "ALTER TABLE registry_family DROP CONSTRAINT IF EXISTS registry_kk_unique",
    "ALTER TABLE registry_family ADD CONSTRAINT registry_family_kk_number_key "
    "UNIQUE (kk_number)",
    "CREATE INDEX IF NOT EXISTS registry_family_kk_number_564cc063_like "
    "ON registry_family (kk_number varchar_pattern_ops)",
    "ALTER TABLE registry_resident DROP CONSTRAINT IF EXISTS registry_nik_unique",
    "ALTER TABLE registry_resident ADD CONSTRAINT registry_resident_nik_key "
    "UNIQUE (nik)",
    "CREATE INDEX IF NOT EXISTS registry_resident_nik_ef9583d6_like "
    "ON registry_resident (nik varchar_pattern_ops)",
]


def _on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("regions", "0001_initial"),
        ("registry", "0004_digitisation"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunPython(
                    _on_postgresql(PG_FORWARD), _on_postgresql(PG_BACKWARD)
                )
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="family",
                    name="kk_number",
                    field=models.CharField(
                        blank=True, max_length=16, null=True, verbose_name="nomor KK"
                    ),
                ),
                migrations.AlterField(
                    model_name="lifeevent",
                    name="resident",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="registry.resident",
                        verbose_name="penduduk",
                    ),
                ),
                migrations.AlterField(
                    model_name="resident",
                    name="kecamatan_code",
                    field=models.CharField(max_length=8),
                ),
                migrations.AlterField(
                    model_name="resident",
                    name="nik",
                    field=models.CharField(
                        blank=True, max_length=16, null=True, verbose_name="NIK"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="family",
                    constraint=models.UniqueConstraint(
                        fields=("kk_number",), name="registry_kk_unique"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="resident",
                    constraint=models.UniqueConstraint(
                        fields=("nik",), name="registry_nik_unique"
                    ),
                ),
            ],
        )
    ]
