import pytest

from contactcenter.choices import Role
from contactcenter.testing import capture_realtime, free_port


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


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Each test gets its own channel-layer instance.

    channels_redis keeps locks and clean-up tasks on the instance, bound to the
    event loop that created them; every async test has its own loop, so an
    instance shared across tests can wait forever on a lock a closed loop held.
    """
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _fresh_routing_config():
    """Each test configures routing from scratch; nothing cached from the previous one."""
    from routing.services.cache import config_cache_clear

    config_cache_clear()
    yield
    config_cache_clear()


def pytest_collection_modifyitems(items):
    """Transactional tests flush the database; restore what the data migrations created (roles, codes) after each."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker and marker.kwargs.get("transaction") and "serialized_rollback" not in marker.kwargs:
            kwargs = {**marker.kwargs, "serialized_rollback": True}
            item.add_marker(pytest.mark.django_db(*marker.args, **kwargs), append=False)


# --- Live ASGI server and headless Chromium (browser tests) --------------------------
# Reusable by every app: ``asgi_live_server`` serves the real ASGI application
# (HTTP, static files, websockets) with daphne in a subprocess on the test
# database; ``browser_page`` is a fresh Playwright page in Debian's Chromium.
# Tests that use them need committed data: ``@pytest.mark.django_db(transaction=True)``.

CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def asgi_live_server(django_db_setup):
    """``http://127.0.0.1:<port>`` of daphne serving ``contactcenter.asgi`` against the test database.

    A fresh subprocess rather than a fork: a forked child would inherit the
    parent's thread pools (``database_sync_to_async``) without their threads.
    """
    import os
    import socket
    import subprocess
    import sys
    import time
    from urllib.parse import quote

    from django.db import connection

    db = connection.settings_dict
    env = dict(os.environ)
    if db["HOST"].startswith("/"):
        env["DATABASE_URL"] = f"postgresql://{db['USER']}:{quote(db['PASSWORD'] or '')}@/{db['NAME']}?host={db['HOST']}"
    else:
        env["DATABASE_URL"] = (
            f"postgresql://{db['USER']}:{quote(db['PASSWORD'] or '')}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}"
            f"/{db['NAME']}"
        )
    # Tests change routing configuration between requests; the server must not serve a cached copy.
    env["ROUTING_CONFIG_CACHE_SECONDS"] = "0"
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "contactcenter.asgi:application"],
        env=env, stdout=subprocess.DEVNULL, stderr=None,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("daphne did not start for the browser tests")
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


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
