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

from transcription import history  # noqa: E402 - the history pages, appended

urlpatterns += [
    path("history/", history.history, name="history"),
    path("history/delete/", history.history_delete, name="history_delete"),
    path("history/download/", history.history_download, name="history_download"),
    path("history/clear/", history.history_clear, name="history_clear"),
    path(
        "history/batch/<path:name>/export/<str:fmt>/",
        history.history_batch_export,
        name="history_batch_export",
    ),
]
