"""The access rule's SQL, written once per kept rule instead of on every query.

The rule kept for a person (IncidentManager._rule) is a queryset whose WHERE clause is the rule and
nothing else. Every list and count built on it used to compile that clause again: the ORM walks the
rule's lookups and subqueries and writes the same text each time, the largest remaining cost of a
signed-in page (docs/performance.md). `compile_once` wraps each part of that clause in a
`CompiledPart`, which writes its part through the ORM the first time and gives the same text and
parameters afterwards.

What the text depends on, besides the part itself, is the database connection and how the query
being compiled names the case table; both are in the cache key, so a compile in another setting is
a new compile, never a reused text. Anything that renames tables (the rule used as a subquery,
combined with another query, a replaced expression) gets the plain part back, compiled by the ORM
as before: a subquery's inner aliases depend on where it sits, and a reused text would bind them to
the wrong table. The result is compared with the ORM's own text in every setting the app uses in
tests/incidents/test_compiled_rule.py.
"""

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db.models.sql.datastructures import BaseTable
from django.db.models.sql.where import NothingNode


class CompiledPart:
    """One part of the rule's WHERE clause, with its SQL kept per connection and table naming."""

    def __init__(self, part, alias: str, table: str):
        self.part = part
        self.alias, self.table = alias, table
        self.contains_aggregate = part.contains_aggregate
        self.contains_over_clause = part.contains_over_clause
        self.is_summary = getattr(part, "is_summary", False)
        self._sql: dict = {}

    def as_sql(self, compiler, connection):
        join = compiler.query.alias_map.get(self.alias)
        if not isinstance(join, BaseTable) or join.table_name != self.table:
            return compiler.compile(self.part)
        key = (connection.alias, connection.vendor, compiler.quote_name_unless_alias(self.alias))
        kept = self._sql.get(key)
        if kept is None:
            try:
                sql, params = compiler.compile(self.part)
            except (EmptyResultSet, FullResultSet) as outcome:
                kept = self._sql[key] = (type(outcome), None, None)
            else:
                kept = self._sql[key] = (None, sql, tuple(params))
        outcome, sql, params = kept
        if outcome is not None:
            raise outcome
        return sql, list(params)

    # Shared by the copies of a query: nothing in it changes once built.
    def clone(self):
        return self

    def resolve_expression(self, *args, **kwargs):
        return self

    # Renamed tables or replaced expressions: the plain part, compiled by the ORM.
    def relabeled_clone(self, change_map):
        return self.part.relabeled_clone(change_map) if change_map else self

    def replace_expressions(self, replacements):
        return self.part.replace_expressions(replacements) if replacements else self

    def get_source_expressions(self):
        return [self.part]

    def get_group_by_cols(self):
        return self.part.get_group_by_cols()

    def get_refs(self):
        return self.part.get_refs()

    def flatten(self):
        yield self
        yield from self.part.flatten()

    def __repr__(self):
        return f"CompiledPart({self.part!r})"


def compile_once(queryset):
    """`queryset` with each part of its WHERE clause compiled at most once per setting. Only for a
    query that reads one table, with no join, so the text names nothing but that table; otherwise
    the queryset is returned as it is."""
    query = queryset.query
    # Joins the ORM made and trimmed again (a foreign key compared by its value) stay in the map
    # with no reference; they are not in the SQL.
    used = [alias for alias, count in query.alias_refcount.items() if count]
    if len(used) != 1 or query.combinator or query.alias_prefix != "T":
        return queryset
    alias, join = used[0], query.alias_map[used[0]]
    if not isinstance(join, BaseTable):
        return queryset
    query.where.children = [
        child if isinstance(child, NothingNode) else CompiledPart(child, alias, join.table_name)
        for child in query.where.children
    ]
    return queryset
