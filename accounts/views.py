from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.login_throttle import lockout_minutes, login_is_locked_out
from accounts.selectors import api_token_for_user
from accounts.services import api_token_create, api_token_revoke


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/home.html")


class LoginView(auth_views.LoginView):
    """The one login page (the admin's login redirects here), throttled against brute force."""

    template_name = "accounts/login.html"

    def post(self, request, *args, **kwargs):
        if login_is_locked_out(username=request.POST.get("username"), request=request):
            return self._locked_out()
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        # The failure that reached the limit (or a refusal inside authenticate) answers 429 as well.
        if login_is_locked_out(username=self.request.POST.get("username"), request=self.request):
            return self._locked_out()
        return super().form_invalid(form)

    def _locked_out(self) -> HttpResponse:
        context = self.get_context_data(
            form=self.get_form_class()(self.request),
            locked_out_minutes=lockout_minutes(),
        )
        return self.render_to_response(context, status=429)


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The user's own API token: create (shown once), replace or revoke."""
    new_key = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create":
            new_key = api_token_create(user=request.user).key
            messages.success(request, "A new API token was created. Copy it now: it will not be shown again.")
        elif action == "revoke":
            if api_token_revoke(user=request.user):
                messages.success(request, "Your API token was revoked; requests using it are now refused.")
            return redirect("api_tokens")
        else:
            messages.error(request, "Unknown action: choose Create or Revoke.")
            return redirect("api_tokens")
    token = api_token_for_user(request.user)
    return render(request, "accounts/api_tokens.html", {"token": token, "new_key": new_key})
