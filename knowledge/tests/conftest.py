import pytest

from contactcenter.celery import app as celery_app
from contactcenter.choices import Role


@pytest.fixture(autouse=True)
def celery_eager():
    """Tasks enqueued on commit run inline, in the test's process and database."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def manager(django_user_model):
    from django.contrib.auth.models import Group

    from knowledge.permissions import KNOWLEDGE_MANAGERS

    user = django_user_model.objects.create_user(username="km", password="pw-km", first_name="Kim", last_name="Manager")
    user.groups.add(Group.objects.get(name=KNOWLEDGE_MANAGERS))
    return user


@pytest.fixture
def administrator(django_user_model):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(username="admin1", password="pw-admin1")
    user.groups.add(Group.objects.get_or_create(name=Role.ADMINISTRATOR)[0])
    return user
