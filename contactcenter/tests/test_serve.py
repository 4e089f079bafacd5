"""`make run` end to end: the `serve` command brings up daphne, a Celery worker and beat,
serves the login page, the admin and the API docs, delivers `message.created` to a
signed-in agent's websocket, and stops every child on Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import quote

import aiohttp
import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

from contactcenter.testing import free_port
from crm import services
from crm.choices import ChannelKind
from crm.models import Conversation

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

STARTUP_SECONDS = 30


def _test_database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "") + (":" + quote(db["PASSWORD"]) if db["PASSWORD"] else "")
    host = db["HOST"] or ""
    if host.startswith("/"):
        return f"postgresql://{auth}@/{db['NAME']}?host={quote(host)}"
    return f"postgresql://{auth}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def server():
    port = free_port()
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "REDIS_URL": settings.REDIS_URL,
           "REDIS_PREFIX": settings.REDIS_PREFIX}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--no-demo", "--port", str(port), "--concurrency", "1"],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    started = time.monotonic()
    while time.monotonic() - started < STARTUP_SECONDS:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            assert process.poll() is None, process.stdout.read()
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail(f"serve was not up within {STARTUP_SECONDS} s")
    yield process, f"http://127.0.0.1:{port}"
    if process.poll() is None:
        # SIGTERM lets serve stop its children (they run in their own sessions).
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


async def _login(session: aiohttp.ClientSession, base: str, username: str, password: str) -> None:
    async with session.get(f"{base}/login/") as response:
        assert response.status == 200
        page = await response.text()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = {"username": username, "password": password, "csrfmiddlewaretoken": token}
    async with session.post(f"{base}/login/", data=form, headers={"Referer": f"{base}/login/"}) as response:
        assert response.status == 200 and str(response.url) == f"{base}/", await response.text()


def test_serve_runs_the_whole_system_and_stops_on_ctrl_c(server, agent):
    process, base = server
    conversation = services.message_ingest(channel_kind=ChannelKind.WEBCHAT, address="smoke", body="hi").conversation
    Conversation.objects.filter(pk=conversation.pk).update(assigned_agent=agent, status="active")

    async def scenario():
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            await _login(session, base, "agent.a", "pw-agent.a")
            for path in ("/admin/login/", "/api/docs/", "/api/schema/"):
                async with session.get(f"{base}{path}") as response:
                    assert response.status == 200, path
            async with session.ws_connect(f"{base.replace('http', 'ws')}/ws/agent/", origin=base) as socket_:
                result = await sync_to_async(services.message_ingest)(
                    channel_kind=ChannelKind.WEBCHAT, address="smoke", body="Is my order shipped?"
                )
                event = await socket_.receive_json(timeout=10)
                assert event["type"] == "message.created" and event["id"] == result.message.pk
                assert event["data"]["message"]["body"] == "Is my order shipped?"

    asyncio.run(scenario())

    output_so_far = []
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=20)
    finally:
        output_so_far.append(process.stdout.read())
    assert process.returncode == 0, output_so_far[0][-3000:]
    assert "Stopped." in output_so_far[0]
