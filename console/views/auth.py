"""Sign-in and sign-out: Django's session views, under the API's login limits."""

from __future__ import annotations

import math

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from backend.throttling import sign_in_wait
from console.access import allowed


class LoginView(auth_views.LoginView):
    template_name = "console/login.html"
    redirect_authenticated_user = True
    extra_context = {"title": "Sign in"}

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        wait = sign_in_wait(request)
        if wait is not None:
            seconds = math.ceil(wait)
            response = TemplateResponse(
                request, self.template_name, {"title": "Sign in", "wait": seconds, "next": request.POST.get("next")},
                status=429,
            )  # fmt: skip
            response["Retry-After"] = str(seconds)
            return response
        return super().post(request, *args, **kwargs)


class LogoutView(auth_views.LogoutView):
    http_method_names = ["post", "options"]


def home(request: HttpRequest) -> HttpResponse:
    """Each role's first page."""
    user = request.user
    if not user.is_authenticated:
        return redirect("console:login")
    if allowed(user, "staff"):
        return redirect("console:day")
    if allowed(user, "patient"):
        return redirect("console:me")
    return TemplateResponse(request, "console/refused.html", {"title": "Not allowed"}, status=403)
