"""The teams page: the teams a user is in and their members; a team's managers (and staff) add
and remove members and change roles. Teams themselves are made in Django admin. Each view parses,
calls one service or selector, and renders or goes back to the page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from teams import selectors, services
from teams.forms import MemberForm


@login_required
@require_GET
def team_list(request: HttpRequest) -> HttpResponse:
    teams = [
        (
            team,
            selectors.membership_list(user=request.user, team=team),
            selectors.team_manages(user=request.user, team=team),
        )
        for team in selectors.team_list(user=request.user)
    ]
    return render(request, "teams/list.html", {"teams": teams, "form": MemberForm()})


@login_required
@require_POST
def member_set(request: HttpRequest, team_id: int) -> HttpResponse:
    team = selectors.team_get_managed(user=request.user, team_id=team_id)
    form = MemberForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("team_list")
    member = form.cleaned_data["username"]
    services.membership_set(team=team, user=member, role=form.cleaned_data["role"])
    messages.success(
        request, _("%(user)s is in %(team)s.") % {"user": member.get_username(), "team": team.name}
    )
    return redirect("team_list")


@login_required
@require_POST
def member_remove(request: HttpRequest, team_id: int, user_id: int) -> HttpResponse:
    team = selectors.team_get_managed(user=request.user, team_id=team_id)
    member = selectors.membership_get(user=request.user, team=team, member_id=user_id).user
    services.membership_remove(team=team, user=member)
    messages.success(
        request, _("%(user)s left %(team)s.") % {"user": member.get_username(), "team": team.name}
    )
    return redirect("team_list")
