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
