"""`Incident.get_FOO_display()` answers from each field's choices made into a dict once
(incidents/models.ChoiceLabels); the answers are Django's own, for every choice of every field, for a
value that is not a choice, and for an empty one."""

from django.db.models import Model

from incidents.models import ChoiceLabels, Incident


def test_every_display_is_django_s_for_every_choice_and_for_values_that_are_not_choices():
    fields = [f for f in Incident._meta.concrete_fields if f.choices]
    assert len(fields) >= 6, [f.name for f in fields]
    compared = 0
    for field in fields:
        for value in [*(v for v, _label in field.flatchoices), "not-a-choice", "", None]:
            case = Incident(**{field.attname: value})
            ours = getattr(case, f"get_{field.name}_display")()
            assert ours == Model._get_FIELD_display(case, field), (field.name, value)
            assert type(ours) is type(Model._get_FIELD_display(case, field)), (field.name, value)
            compared += 1
    assert compared > 40
    assert Incident._get_FIELD_display is ChoiceLabels._get_FIELD_display
