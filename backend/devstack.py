"""``make run``: the whole stack on one machine, with demo data.

Starts (or reuses) the embedded PostgreSQL and Redis unless ``DATABASE_URL`` /
``REDIS_URL`` are set, migrates, loads the demo data, then runs the web server,
a Celery worker, Celery beat and the SMTP sink side by side with interleaved,
prefixed logs. On the embedded server, migrations run as the owner and the
processes connect as the application's role, which may not rewrite the audit
trail (docs/deployment.md). A worker or beat that stops is started again
(``backend.keepalive``) and the rest keeps running. The development server
opens a thread per request, so it keeps no database connection past its
request (``DB_CONN_MAX_AGE=0``). Ctrl-C stops every process, and the embedded
servers this command started.
"""

from __future__ import annotations

import os
import secrets
import shlex
import socket
import subprocess
import sys

from honcho.manager import Manager

from backend import embedded

DEMO_PASSWORD = "clinic-demo-2026"  # noqa: S105 - documented demo credential, local runs only
LOCAL_SMS_SECRET = "local-sms-secret"  # noqa: S105 - signs inbound SMS in local runs (README shows a curl)
MAIL_PORT = 1025
DEMO_LOGINS = (
    ("admin", "admin (also Django admin)"),
    ("reception", "reception"),
    ("clinician", "clinician"),
    ("accountant", "accountant"),
    ("patient", "patient (Alex Rivera)"),
)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _local_secret_key() -> str:
    """This checkout's own random SECRET_KEY, made once and kept in var/ (links signed by one local stack
    cannot be forged from the public source)."""
    path = embedded.VAR_DIR / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


def _environment() -> dict[str, str]:
    """Settings of a local run. Every port is PORT (default 8000) or free: two checkouts run side by side."""
    env = dict(os.environ)
    env.setdefault("DEBUG", "1")
    env.setdefault("SECRET_KEY", _local_secret_key())
    port = env.setdefault("PORT", "8000")
    env.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{port}")  # links in emails open this stack
    env.setdefault("TWILIO_AUTH_TOKEN", LOCAL_SMS_SECRET)
    env.setdefault("EMAIL_HOST", "127.0.0.1")
    env.setdefault("EMAIL_PORT", str(MAIL_PORT if _port_free(MAIL_PORT) else embedded.free_port()))
    env.setdefault("MAIL_DIR", str(embedded.VAR_DIR / "mail"))
    env.setdefault("PYTHONUNBUFFERED", "1")
    embedded.ensure_services(env)
    return env


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=embedded.PROJECT_ROOT, env=env, check=True)  # noqa: S603


def _banner(port: str, env: dict[str, str]) -> str:
    base = f"http://127.0.0.1:{port}"
    logins = "\n".join(f"    {user:<11} / {DEMO_PASSWORD}   {role}" for user, role in DEMO_LOGINS)
    return f"""
  Ketamine clinic backend is starting
    Console      {base}/console/      (the staff's and patients' screens)
    API          {base}/api/v1/
    API docs     {base}/api/docs/      (OpenAPI schema: {base}/api/schema/)
    Admin        {base}/admin/
    Health       {base}/healthz
    Mail sink    127.0.0.1:{env["EMAIL_PORT"]}, messages stored in {env["MAIL_DIR"]}/
  Demo logins (username / password):
{logins}
  Ctrl-C stops everything.
"""


def main() -> int:
    embedded_database = not os.environ.get("DATABASE_URL")
    env = _environment()
    port = env["PORT"]
    app_url = env["DATABASE_URL"]
    if embedded_database:  # the owner migrates and grants; the processes get the application's role
        app_url = embedded.ensure_app_role(env["DATABASE_URL"])
        env["DATABASE_APP_ROLE"] = embedded.APP_ROLE
    _manage(env, "migrate", "--noinput", "-v", "0")
    _manage(env, "seed_demo", "--password", DEMO_PASSWORD)
    env["DATABASE_URL"] = app_url
    python = shlex.quote(sys.executable)
    schedule = shlex.quote(str(embedded.VAR_DIR / "celerybeat-schedule"))
    keep = f"{python} -m backend.keepalive"
    processes = {
        "web": f"{python} manage.py runserver 127.0.0.1:{port}",
        "worker": f"{keep} worker -- {python} -m celery -A worker worker -Q default,reminders,documents,exports "
        "--concurrency 2 --loglevel INFO",
        "beat": f"{keep} beat -- {python} -m celery -A worker beat --schedule {schedule} --loglevel INFO",
        "mail": f"{python} -m backend.mailsink --port {env['EMAIL_PORT']} --directory {shlex.quote(env['MAIL_DIR'])}",
    }
    settings_of = {"web": {"DB_CONN_MAX_AGE": "0"}}  # a thread per request: no connection outlives it
    print(_banner(port, env), flush=True)
    manager = Manager()
    for name, command in processes.items():
        process_env = {"DB_APPLICATION_NAME": f"clinic-{name}", **env, **settings_of.get(name, {})}
        manager.add_process(name, command, env=process_env, cwd=str(embedded.PROJECT_ROOT))
    manager.loop()
    return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
