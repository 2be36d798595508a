from django.urls import path

from scheduling.public import appointment_link, offer, unsubscribe

urlpatterns = [
    path("unsubscribe/<str:token>/", unsubscribe, name="unsubscribe"),
    path("offer/<str:token>/", offer, name="waitlist-offer"),
    path("<str:action>/<str:token>/", appointment_link, name="appointment-link"),
]
