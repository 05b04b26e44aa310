"""Who is signed in: Django's ModelBackend, with the one look-up every signed-in request makes (the
person by id, from the session) written once per thread (accounts/prepared.py) instead of built and
compiled by the ORM each time. Same row, same checks (`user_can_authenticate`: an inactive person is
nobody). Password checks are ModelBackend's."""

from django.contrib.auth.backends import ModelBackend

from .models import User
from .prepared import PreparedRow

_PERSON = PreparedRow(User)


class PersonBackend(ModelBackend):
    def get_user(self, user_id):
        user = _PERSON.get(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
