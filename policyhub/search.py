"""Full-text search over clause text: PostgreSQL's text search where we have it, a plain fallback elsewhere."""

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import QuerySet

MAX_RESULTS = 50


def search_clauses(clauses: QuerySet, query: str) -> QuerySet:
    """Clauses of `clauses` matching `query`, best first (PostgreSQL) or in document order (SQLite)."""
    query = (query or "").strip()[:200]
    if not query:
        return clauses.none()
    if connection.vendor == "postgresql":
        vector = SearchVector("text", config="english")
        search = SearchQuery(query, config="english", search_type="websearch")
        return (
            clauses.annotate(search_vector=vector, rank=SearchRank(vector, search))
            .filter(search_vector=search)
            .order_by("-rank", "-version__number", "order")
        )
    for word in query.split()[:10]:
        clauses = clauses.filter(text__icontains=word.strip("\"'"))
    return clauses.order_by("-version__number", "order")
