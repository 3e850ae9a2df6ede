from django.urls import path

from hotwords import views

urlpatterns = [
    path("", views.hotword_list, name="hotword_list"),
    path("new/", views.hotword_list_create, name="hotword_list_create"),
    path("<int:list_id>/", views.hotword_list_detail, name="hotword_list_detail"),
    path("<int:list_id>/edit/", views.hotword_list_edit, name="hotword_list_edit"),
    path("<int:list_id>/delete/", views.hotword_list_delete, name="hotword_list_delete"),
    path("<int:list_id>/export/", views.hotword_list_export, name="hotword_list_export"),
]
