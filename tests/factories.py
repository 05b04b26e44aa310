import factory

from accounts.models import Membership, Nation, Role, School, Trust, User

PASSWORD = "correct horse battery staple"


class TrustFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Trust
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Trust {n}")
    slug = factory.Sequence(lambda n: f"trust-{n}")


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    trust = factory.SubFactory(TrustFactory)
    name = factory.Sequence(lambda n: f"School {n}")
    slug = factory.Sequence(lambda n: f"school-{n}")
    code = factory.Sequence(lambda n: "S" + "".join(chr(65 + int(d)) for d in f"{n:03d}"))
    urn = factory.Sequence(lambda n: f"{200000 + n}")
    nation = Nation.ENGLAND


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    full_name = factory.Sequence(lambda n: f"User {n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def member(user, school, *roles):
    for role in roles:
        Membership.objects.create(user=user, school=school, role=role)
    return user


def person(name, school, *roles, email=None):
    email = email or f"{name.split()[0].lower()}@{school.slug}.example.org"
    return member(UserFactory(full_name=name, email=email), school, *roles)


__all__ = ["PASSWORD", "Role", "SchoolFactory", "TrustFactory", "UserFactory", "member", "person"]
