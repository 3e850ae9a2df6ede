from django.urls import path

from teams import views

urlpatterns = [
    path("teams/", views.team_list, name="team_list"),
    path("teams/<int:team_id>/members/", views.member_set, name="team_member_set"),
    path("teams/<int:team_id>/members/<int:user_id>/remove/", views.member_remove, name="team_member_remove"),
]
