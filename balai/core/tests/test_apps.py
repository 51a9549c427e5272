from psycopg import _queries
from psycopg.adapt import Transformer

from balai.core.apps import CACHED_STATEMENT_PARAMS


def test_psycopg_keeps_the_parsed_form_of_a_statement_of_many_parameters():
    sql = "SELECT " + ", ".join(["%s"] * 60)
    values = list(range(60))
    _queries.PostgresQuery(Transformer()).convert(sql, values)
    before = _queries._query2pg.cache_info().hits

    _queries.PostgresQuery(Transformer()).convert(sql, values)

    assert _queries.MAX_CACHED_STATEMENT_PARAMS >= CACHED_STATEMENT_PARAMS
    assert _queries._query2pg.cache_info().hits == before + 1
