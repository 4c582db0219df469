"""A faster text dumper for PostgreSQL arrays of strings (psycopg's, with its escaping in C).

Django 5.2's `bulk_create` on PostgreSQL sends each column as one array (`INSERT … SELECT *
FROM UNNEST(…)`), and psycopg dumps a text array in Python, escaping each element's quotes
and backslashes with a regular expression and a replacement template: on Python 3.11 the
template costs a Python call per match, which made the daily run's digest emails (HTML with
hundreds of quotes each) a
tenth of its time (#15). This dumper is psycopg's own, with the same escaping done by two
`bytes.replace` calls; the result is byte for byte the same (tests/core/test_pg_arrays.py).
"""

from psycopg.types.array import ListDumper as PsycopgListDumper


class _Escape:
    """Stands for psycopg's `_re_esc` pattern: backslash-escape `"` and `\\` (its only use)."""

    @staticmethod
    def sub(_template: bytes, data: bytes) -> bytes:
        return bytes(data).replace(b"\\", b"\\\\").replace(b'"', b'\\"')


class ListDumper(PsycopgListDumper):
    _re_esc = _Escape()


def register(connection) -> None:
    """Use `ListDumper` for the lists a new psycopg connection sends in text format."""
    connection.adapters.register_dumper(list, ListDumper)


def on_connection_created(sender, connection, **kwargs) -> None:
    """`connection_created` receiver: register the dumper on a PostgreSQL connection."""
    if connection.vendor == "postgresql":
        register(connection.connection)
