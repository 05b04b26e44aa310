from django.db import models
from django.db.models import F, Q

from accounts.models import School


class TermKey(models.TextChoices):
    AUTUMN = "autumn", "Autumn"
    SPRING = "spring", "Spring"
    SUMMER = "summer", "Summer"


class TermDate(models.Model):
    """A school's own dates for one term. Without a row, the term falls back to its nation's
    default dates (reporting/terms.py DEFAULTS). `year` is the calendar year the term starts in
    (autumn 2025, then spring 2026 and summer 2026), as the pack's term keys ("2026-spring") read."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="term_dates")
    year = models.PositiveSmallIntegerField()
    term = models.CharField(max_length=10, choices=TermKey.choices)
    starts_on = models.DateField(help_text="The first day of the term.")
    ends_on = models.DateField(help_text="The last day of the term (the holiday after it counts with it).")

    class Meta:
        ordering = ["school", "starts_on"]
        constraints = [
            models.UniqueConstraint(fields=["school", "year", "term"], name="termdate_one_per_school_term"),
            models.CheckConstraint(condition=Q(term__in=TermKey.values), name="termdate_term_valid"),
            models.CheckConstraint(condition=Q(starts_on__lte=F("ends_on")), name="termdate_starts_before_end"),
        ]

    def __str__(self):
        return f"{self.school}: {self.get_term_display()} {self.year} ({self.starts_on} to {self.ends_on})"

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.starts_on and self.year and self.starts_on.year != self.year:
            raise ValidationError({"starts_on": "A term starts in the year it is filed under."})
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "A term ends on or after its first day."})


class FiguresChange(models.Model):
    """One row written by a database trigger (reporting/stamps.py) for every row changed in a table
    the governors' figures read, naming the school whose figures it may change. The school's rows
    (their count and the sum of their random tokens) are the stamp its cached figures are keyed by;
    an hourly task keeps only the newest row of each school. No foreign key: a row outlives nothing
    it names, and a deleted school's rows are removed with the rest."""

    id = models.BigAutoField(primary_key=True)
    school_id = models.BigIntegerField()
    token = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["school_id", "token"], name="figureschange_school")]

    def __str__(self):
        return f"change {self.pk} at school {self.school_id}"
