from django.apps import AppConfig

# Statements with up to this many parameters keep psycopg's parsed form.
CACHED_STATEMENT_PARAMS = 1000


class CoreConfig(AppConfig):
    name = "balai.core"
    label = "core"
    verbose_name = "Inti"

    def ready(self) -> None:
        cache_statements_with_many_parameters()


def cache_statements_with_many_parameters() -> None:
    """Let psycopg keep the parsed form of statements of up to
    `CACHED_STATEMENT_PARAMS` parameters (it keeps none beyond 50).

    Its limit guards against an ORM's multi-row INSERTs of ever-different
    lengths. Ours repeat: `balai.core.rows.insert_rows` writes every action's
    audit entries and change records in one statement of 50-100 parameters,
    and parsing those anew cost each submission about 0.6 ms of CPU. psycopg
    is pinned (requirements.lock); its test fails if the name moves.
    """
    from psycopg import _queries

    if _queries.MAX_CACHED_STATEMENT_PARAMS < CACHED_STATEMENT_PARAMS:
        _queries.MAX_CACHED_STATEMENT_PARAMS = CACHED_STATEMENT_PARAMS
