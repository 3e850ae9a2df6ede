from django.urls import path

from transcription import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("jobs/upload/", views.job_upload, name="job_upload"),
    path("jobs/<uuid:job_id>/", views.job_detail, name="job_detail"),
    path("jobs/<uuid:job_id>/audio/", views.job_audio, name="job_audio"),
    path("jobs/<uuid:job_id>/delete/", views.job_delete, name="job_delete"),
    path("jobs/<uuid:job_id>/cancel/", views.job_cancel, name="job_cancel"),
    path("jobs/<uuid:job_id>/segments/<int:index>/", views.segment_edit, name="segment_edit"),
    path("jobs/<uuid:job_id>/retry/", views.job_retry, name="job_retry"),
    path("jobs/<uuid:job_id>/export/<str:fmt>/", views.job_export, name="job_export"),
    path("workers/", views.worker_list, name="workers"),
    path("workers/<str:name>/unload/", views.worker_unload, name="worker_unload"),
]
