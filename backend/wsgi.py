import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
application = get_wsgi_application()

# Import every view now, in the master when gunicorn preloads, not in each worker's first request.
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018 - evaluated for its side effect

# What is loaded by now lives as long as the process: the collector's full passes leave it alone. Unfrozen,
# every few large responses paid a full pass over the whole app, about 100 ms (docs/performance.md).
gc.freeze()
