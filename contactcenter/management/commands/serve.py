"""``make run``: migrate, load demo data, then serve daphne + Celery worker + beat until Ctrl-C."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time

from django.core.management import BaseCommand, call_command

STOP_GRACE_SECONDS = 10
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Run in each child before exec: if ``serve`` is killed outright, the child gets SIGTERM too."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Command(BaseCommand):
    help = "Run the whole system: daphne (HTTP + websockets), a Celery worker and Celery beat."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-demo", action="store_true", help="Do not load the demo data.")
        parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes.")

    def handle(self, *args, host: str, port: int, no_demo: bool, concurrency: int, **options):
        call_command("migrate", interactive=False, verbosity=0)
        if not no_demo:
            call_command("seed_demo")
        python = sys.executable
        commands = {
            "daphne": [python, "-m", "daphne", "-b", host, "-p", str(port), "contactcenter.asgi:application"],
            "worker": [python, "-m", "celery", "-A", "contactcenter", "worker", "-l", "info",
                       "--concurrency", str(concurrency), "-n", f"worker-{os.getpid()}@%h"],
            "beat": [python, "-m", "celery", "-A", "contactcenter", "beat", "-l", "info",
                     "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"],
        }
        children = {
            name: subprocess.Popen(cmd, start_new_session=True, preexec_fn=_die_with_parent)
            for name, cmd in commands.items()
        }
        self.stdout.write(self.style.SUCCESS(f"Serving on http://{host}:{port}/  (Ctrl-C stops everything)"))

        stopping = False

        def request_stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        exit_code = 0
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    self.stderr.write(f"{name} exited with code {child.returncode}; stopping the rest.")
                    stopping, exit_code = True, 1
            time.sleep(0.5)
        self._stop(children)
        if exit_code:
            sys.exit(exit_code)

    def _stop(self, children: dict[str, subprocess.Popen]) -> None:
        for child in children.values():
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for name, child in children.items():
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop in time; killing it.")
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        self.stdout.write("Stopped.")
