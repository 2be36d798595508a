"""The WSGI entry point gunicorn loads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_loading_the_app_freezes_what_it_loaded_out_of_full_collections() -> None:
    """A full collection walks every tracked object; the app's own (views, models, settings) live as long as the
    process, so they are frozen once loaded and large responses stop paying a pass over them."""
    probe = "import gc, backend.wsgi; print(gc.get_freeze_count())"
    found = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=os.environ, capture_output=True, text=True,
                           check=True, timeout=120)  # fmt: skip
    assert int(found.stdout.strip()) > 100_000, found.stdout
