import pytest

from contactcenter.choices import Role
from contactcenter.testing import capture_realtime


@pytest.fixture
def published():
    """Events the code under test publishes (after commit), instead of sending them."""
    with capture_realtime() as captured:
        yield captured


def _user(django_user_model, username: str, role: Role | None, **extra):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(username=username, password="pw-" + username, **extra)
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def agent(django_user_model):
    return _user(django_user_model, "agent.a", Role.AGENT, first_name="Alice", last_name="Agent")


@pytest.fixture
def other_agent(django_user_model):
    return _user(django_user_model, "agent.b", Role.AGENT, first_name="Bob", last_name="Agent")


@pytest.fixture
def supervisor(django_user_model):
    return _user(django_user_model, "supervisor", Role.SUPERVISOR, first_name="Sam", last_name="Supervisor", is_staff=True)


@pytest.fixture
def outsider(django_user_model):
    """Signed in, but in no contact-center role."""
    return _user(django_user_model, "outsider", None)


@pytest.fixture(autouse=True)
def _api_auth_failure_budget_reset():
    """Refused API keys are throttled per address, and every test client is 127.0.0.1."""
    from django.core.cache import cache

    from contactcenter.api.throttling import FailedAuthenticationThrottle

    cache.delete(FailedAuthenticationThrottle().get_cache_key_for_address("127.0.0.1"))
    yield


def pytest_collection_modifyitems(items):
    """Transactional tests flush the database; restore what the data migrations created (roles, codes) after each."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker and marker.kwargs.get("transaction") and "serialized_rollback" not in marker.kwargs:
            kwargs = {**marker.kwargs, "serialized_rollback": True}
            item.add_marker(pytest.mark.django_db(*marker.args, **kwargs), append=False)
