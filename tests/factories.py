"""Factories for the tests."""

import datetime as dt

import factory
from django.utils import timezone

from apps.accounts.models import User

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@acme.example")
    full_name = factory.Faker("name")
    team = "Marketing Operations"
    job_title = "Marketing Technologist"
    start_date = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=200))
    is_active = True

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])


class AdminFactory(UserFactory):
    is_superuser = True
    job_title = "Director of Marketing Operations"


def person_with(admin, *codes, tenure_days=200, name="Sam Person", tenures=None):
    """Someone ``tenure_days`` into the job whose own role grants ``codes``, each from the
    tenure ``tenures`` gives it (none by default)."""
    from apps.access import services as svc

    started = timezone.localdate() - dt.timedelta(days=tenure_days)
    person = UserFactory(full_name=name, start_date=started)
    role = svc.role_create(actor=admin, name=f"Role of {name}", owner=admin)
    for code in codes:
        svc.role_capability_set(
            actor=admin, role=role, capability=code, min_tenure_days=(tenures or {}).get(code, 0)
        )
    svc.role_assign(actor=admin, user=person, role=role)
    return person
