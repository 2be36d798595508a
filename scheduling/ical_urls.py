from django.urls import re_path

from scheduling.ical_views import calendar_feed

urlpatterns = [
    re_path(r"^(?P<kind>patient|staff)/(?P<token>[A-Za-z0-9_-]{1,64})\.ics$", calendar_feed, name="calendar-feed"),
]
