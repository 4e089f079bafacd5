import pytest

from routing.services.cache import config_cache_clear


@pytest.fixture(autouse=True)
def _fresh_routing_config():
    """Each test configures routing from scratch; nothing cached from the previous one."""
    config_cache_clear()
    yield
    config_cache_clear()
