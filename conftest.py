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


# --- Live ASGI server and headless Chromium (browser tests) --------------------------
# Reusable by every app: ``asgi_live_server`` serves the real ASGI application
# (HTTP, static files, websockets) with daphne in a child process on the test
# database; ``browser_page`` is a fresh Playwright page in Debian's Chromium.
# Tests that use them need committed data: ``@pytest.mark.django_db(transaction=True)``.

CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


def _asgi_application():
    from channels.routing import get_default_application

    return get_default_application()


@pytest.fixture(scope="session")
def asgi_live_server(django_db_setup, django_db_blocker):
    """``http://127.0.0.1:<port>`` of daphne serving ``contactcenter.asgi`` against the test database."""
    from daphne.testing import DaphneProcess
    from django.db import connections

    connections.close_all()
    with django_db_blocker.unblock():
        # The child is forked here and inherits the test database settings
        # and the unblocked database access.
        process = DaphneProcess("127.0.0.1", _asgi_application)
        process.start()
        if not process.ready.wait(timeout=30):
            process.terminate()
            pytest.fail("daphne did not start within 30 s")
    yield f"http://127.0.0.1:{process.port.value}"
    process.terminate()
    process.join(10)


@pytest.fixture
def chromium():
    """Debian's Chromium driven by Playwright; the test is skipped with a reason when it is missing.

    Function-scoped on purpose: Playwright's sync API keeps an event loop
    running in the main thread while it is open, which would break the
    async (Channels) tests that run after it.
    """
    import os

    if not os.path.exists(CHROMIUM_PATH):
        pytest.skip(f"Chromium is not installed at {CHROMIUM_PATH} (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in the test's thread;
    # the test's own (synchronous) database calls are still safe.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def browser_page(chromium):
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
