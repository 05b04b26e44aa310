"""`pk__in_array=<queryset>`: membership in a subquery's rows that PostgreSQL can read through an
index even as one arm of an OR (`id = ANY(ARRAY(SELECT ...))` is evaluated once, then an index
condition; `id IN (SELECT ...)` inside an OR is checked row by row, after reading a school's whole
history). Other databases get the plain `IN (SELECT ...)`."""

from django.db.models import BigAutoField, Lookup


@BigAutoField.register_lookup
class InArray(Lookup):
    lookup_name = "in_array"

    def _sides(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        if not rhs.startswith("("):
            rhs = f"({rhs})"
        return lhs, rhs, (*lhs_params, *rhs_params)

    def as_sql(self, compiler, connection):
        lhs, rhs, params = self._sides(compiler, connection)
        return f"{lhs} IN {rhs}", params

    def as_postgresql(self, compiler, connection):
        lhs, rhs, params = self._sides(compiler, connection)
        return f"{lhs} = ANY(ARRAY{rhs})", params
