"""Queries of a fixed shape that run on every page, written by the ORM once instead of on each request.

Building and compiling a query through the ORM costs more CPU than PostgreSQL takes to answer it
(0.2–0.7 ms against a few hundredths, docs/performance.md), and a signed-in page runs the same few
shapes every time: the person's memberships, the policy banner. `Prepared(build, n)` asks `build`
for the queryset once per thread and database, with `n` marker values where each call's values go,
keeps the SQL Django wrote, and on each call runs that SQL with the real values. The rows go through
the compiler's own converters (dates on SQLite, JSON...), so they are what the queryset would give.

Still one query per call: nothing is cached but the text of the SQL, so nothing can be stale.
Per thread because a compiler keeps the connection it was made for.
"""

import copy
import threading
from collections.abc import Callable
from types import SimpleNamespace

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet
from django.db.models.query import ModelIterable
from django.db.models.sql import InsertQuery

# Values no id ever takes: each must appear among the compiled query's parameters as itself. A query
# with a marker of another kind too (a text column) names its own (`markers=`), with these for ids.
ID_MARKERS = tuple(-7_300_001 - i for i in range(8))


class Prepared:
    def __init__(self, build: Callable[..., QuerySet], arity: int, markers: tuple | None = None):
        """`markers`: the stand-in values, where the defaults (numbers no id takes) will not do, e.g.
        a text column."""
        self.build = build
        self.markers = markers if markers is not None else ID_MARKERS[:arity]
        if len(self.markers) != arity:
            raise ValueError("one marker per value")
        self._local = threading.local()

    def _compiled(self):
        per_db = getattr(self._local, "per_db", None)
        if per_db is None:
            per_db = self._local.per_db = {}
        key = (connection.alias, connection.vendor)
        if key not in per_db:
            compiler = self.build(*self.markers).query.get_compiler(connection=connection)
            try:
                sql, params = compiler.as_sql()
            except EmptyResultSet:  # matches nothing, whatever the values (e.g. `pk__in=[]`): no query
                per_db[key] = None
                return None
            params = list(params)
            # Where each value goes: a value may stand in several places (a person's id in each branch
            # of a visibility rule), but it must stand somewhere as itself (not turned into another value).
            positions = []
            for marker in self.markers:
                places = [i for i, param in enumerate(params) if param == marker]
                if not places:
                    raise ValueError(f"a marker of {self.build.__qualname__} is not a parameter: {params!r}")
                positions.append(places)
            # The compiler's converters for the selected columns (as results_iter finds them on each call).
            converters = compiler.get_converters([column[0] for column in compiler.select[: compiler.col_count]])
            per_db[key] = (sql, params, positions, compiler, converters)
        return per_db[key]

    def _with(self, values) -> tuple | None:
        """(SQL, its parameters with `values` in place, compiler, converters); None: no query to run."""
        compiled = self._compiled()
        if compiled is None:
            return None
        sql, params, positions, compiler, converters = compiled
        params = list(params)
        for places, value in zip(positions, values, strict=True):
            for position in places:
                params[position] = value
        return sql, params, compiler, converters

    def rows(self, *values) -> list:
        """The rows of the query built with `values`, as its values_list() would give them."""
        ready = self._with(values)
        if ready is None:
            return []
        sql, params, compiler, converters = ready
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        if converters:
            return [tuple(row) for row in compiler.apply_converters(fetched, converters)]
        return [tuple(row) for row in fetched]


class PreparedObjects(Prepared):
    """`build(*values)` as the model instances its queryset gives (its select_related included: no
    prefetch_related), from SQL written once per thread and database: the fixed-shape lists of one
    case that the case page reads (its timeline, files, referrals...), whose building and compiling
    through the ORM cost more than running them.

    Each call runs Django's own ModelIterable over a copy of the compiler kept from the first call,
    whose as_sql() gives the kept SQL with this call's values and get_converters() the converters
    found for its columns the first time: the instances, their related objects and the columns'
    values are made exactly as the queryset makes them.
    tests/incidents/test_case_lists.py compares the two."""

    def objects(self, *values, known: dict | None = None) -> list:
        """`known`: {field name: instance}, the instance each row's foreign key `field name` points
        to, set on the rows as a related manager sets it (`incident.timeline.all()` gives each entry
        its `incident` without a query)."""
        ready = self._with(values)
        if ready is None:
            return []
        sql, params, compiler, converters = ready
        replay = copy.copy(compiler)
        replay.as_sql = lambda *args, **kwargs: (sql, params)
        # The converters of the same selected columns, found once (results_iter asks on each call).
        replay.get_converters = lambda expressions: converters
        model = compiler.query.model
        stand_in = SimpleNamespace(  # what ModelIterable reads of a queryset
            db=connection.alias,
            model=model,
            query=SimpleNamespace(get_compiler=lambda *args, **kwargs: replay),
            _known_related_objects={
                model._meta.get_field(name): {instance.pk: instance} for name, instance in (known or {}).items()
            },
        )
        return list(ModelIterable(stand_in))


class PreparedRow:
    """`model.objects.filter(<field>=value).first()` for a unique field, as a model instance (every
    concrete field loaded) or None, from SQL written once: the session, the person and the second-factor
    device every signed-in request looks up (accounts/sessions.py, backends.py, two_factor.py)."""

    def __init__(self, model, field: str = "pk", marker=None):
        self.model = model
        self.columns = [f.attname for f in model._meta.concrete_fields]
        self.query = Prepared(
            lambda value: model._default_manager.filter(**{field: value}).values_list(*self.columns),
            1,
            markers=None if marker is None else (marker,),
        )

    def get(self, value):
        rows = self.query.rows(value)
        return self.model.from_db(connection.alias, self.columns, rows[0]) if rows else None


class PreparedInsert:
    """`instance.save(force_insert=True)` for new rows of one model, from the INSERT Django writes for
    it, once per thread and database: the audit row most pages write (accounts/audit.record), whose
    building through the model's save() cost more than the insert itself. Each call prepares the
    values as the insert compiler does (`get_db_prep_save` of `pre_save`), runs the SQL and gives the
    instance its new id. No save signals are sent: for a model nothing listens to."""

    def __init__(self, model):
        self.model = model
        self.fields = [f for f in model._meta.local_concrete_fields if not f.primary_key]
        self._local = threading.local()

    def _sql(self) -> str:
        per_db = getattr(self._local, "per_db", None)
        if per_db is None:
            per_db = self._local.per_db = {}
        key = (connection.alias, connection.vendor)
        if key not in per_db:
            query = InsertQuery(self.model)
            query.insert_values(self.fields, [self.model()])
            compiler = query.get_compiler(connection=connection)
            compiler.returning_fields = [self.model._meta.pk]
            ((sql, params),) = compiler.as_sql()
            if len(params) != len(self.fields):
                raise ValueError(f"{self.model.__name__}: one parameter per field expected: {params!r}")
            per_db[key] = sql
        return per_db[key]

    def save(self, instance) -> None:
        if instance.pk is not None:
            raise ValueError("PreparedInsert writes new rows only")
        sql = self._sql()
        params = [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in self.fields]
        meta = self.model._meta
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            if connection.features.can_return_columns_from_insert:
                new_id = cursor.fetchone()[0]
            else:
                new_id = connection.ops.last_insert_id(cursor, meta.db_table, meta.pk.column)
        instance.pk = new_id
        instance._state.adding = False
        instance._state.db = connection.alias
