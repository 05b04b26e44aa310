"""The data-protection app's one model: how long a closed case of a category is kept."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from incidents.models import DSL_CATEGORIES, Category

# --- Retention (retention.py) ---------------------------------------------------------------------


class RetentionRule(models.Model):
    """How long a closed case of one category is kept, for categories without a statutory rule.

    Allegations, malicious or false allegations, and safeguarding, Prevent and illegal-content cases
    (and any case where a child was at risk) have their own rules in dataprotection/retention.py and are
    not configurable here. A category without a row is kept RETENTION_DEFAULT_YEARS after closure.
    """

    category = models.CharField(max_length=30, choices=Category.choices, unique=True)
    years_after_closure = models.PositiveSmallIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # Born in incidents (migration 0005); moved here without moving the data, so the table
        # keeps its name.
        db_table = "incidents_retentionrule"
        ordering = ["category"]
        constraints = [
            models.CheckConstraint(condition=Q(category__in=Category.values), name="retentionrule_category_valid"),
            models.CheckConstraint(
                condition=~Q(category__in=sorted(c.value for c in DSL_CATEGORIES)),
                name="retentionrule_not_child_protection",
            ),
            models.CheckConstraint(
                condition=Q(years_after_closure__gte=1, years_after_closure__lte=100),
                name="retentionrule_years_range",
            ),
        ]

    def __str__(self):
        return f"{self.get_category_display()}: {self.years_after_closure} years after closure"

    def clean(self):
        if self.category in DSL_CATEGORIES:
            raise ValidationError(
                {"category": "Safeguarding, Prevent and illegal-content cases are kept 25 years; that rule is fixed."}
            )
