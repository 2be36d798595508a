from django.urls import path

from scheduling.public import appointment_link, unsubscribe

urlpatterns = [
    path("unsubscribe/<str:token>/", unsubscribe, name="unsubscribe"),
    path("<str:action>/<str:token>/", appointment_link, name="appointment-link"),
]
