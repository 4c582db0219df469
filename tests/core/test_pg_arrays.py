"""The text array dumper registered on PostgreSQL connections (renewals/core/pg_arrays.py)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from psycopg.adapt import PyFormat, Transformer
from psycopg.types.array import ListDumper as PsycopgListDumper

from renewals.core.pg_arrays import ListDumper

TRICKY = ['<td style="a">"x"</td>', "back\\slash", '\\"', "{a,b}", "", " ", "NULL", "null", "é漢字"]


def dumped(cls, values):
    dumper = cls(list, Transformer()).upgrade(values, PyFormat.TEXT)
    return bytes(dumper.dump(values))


def test_the_dump_is_psycopgs_byte_for_byte_on_tricky_strings():
    values = [*TRICKY, None, *TRICKY]
    assert dumped(ListDumper, values) == dumped(PsycopgListDumper, values)


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(
                alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00")
            ),
        ),
        min_size=1,
    )
)
def test_the_dump_is_psycopgs_byte_for_byte(values):
    assert dumped(ListDumper, values) == dumped(PsycopgListDumper, values)


@pytest.mark.postgres
@pytest.mark.django_db
def test_django_connections_use_it_and_strings_come_back_unchanged():
    from django.db import connection

    with connection.cursor() as cursor:
        values = [*TRICKY, None]
        cursor.execute(
            "SELECT u FROM unnest(%s::text[]) WITH ORDINALITY AS t(u, n) ORDER BY n", [values]
        )
        assert [row[0] for row in cursor.fetchall()] == values
    dumper = connection.connection.adapters.get_dumper(list, PyFormat.TEXT)
    assert dumper is ListDumper
