from django.urls import path

from scheduling.public import appointment_link

urlpatterns = [path("<str:action>/<str:token>/", appointment_link, name="appointment-link")]
