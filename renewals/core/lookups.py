"""`__any`: `IN` a list of values, sent to PostgreSQL as one array parameter (#15).

Django compiles `field__in=[…]` into one placeholder per value, and psycopg then parses the
statement's placeholders again on every execution: for the daily run's lists of hundreds of
subscription ids and thousands of dedupe keys that cost more CPU than the rows they select.
`field__any=[…]` selects the same rows — `field = ANY(%s)` with the values as one array — and
on any other database (or with a subquery) is the `in` lookup itself. Like `in`, it leaves None
out, and an empty list selects nothing without a statement (EmptyResultSet).
"""

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignObject
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In


class _AnyOnPostgreSQL:
    lookup_name = "any"

    def as_postgresql(self, compiler, connection):
        if not self.rhs_is_direct_value() or isinstance(self.lhs, tuple):
            return self.as_sql(compiler, connection)
        field = self.lhs.output_field
        values = [
            field.get_db_prep_value(value, connection, prepared=True)
            for value in self.rhs
            if value is not None
        ]
        if not values:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*lhs_params, values)


@Field.register_lookup
class AnyOf(_AnyOnPostgreSQL, In):
    pass


@ForeignObject.register_lookup
class RelatedAnyOf(_AnyOnPostgreSQL, RelatedIn):
    pass
