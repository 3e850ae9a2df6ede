from django.urls import path

from transcription.views import history, jobs, live, ops, sharing, speakers, workers

urlpatterns = [
    path("healthz", ops.healthz, name="healthz"),
    path("metrics", ops.metrics, name="metrics"),
    path("", jobs.dashboard, name="dashboard"),
    path("jobs/upload/", jobs.job_upload, name="job_upload"),
    path("live/", live.live_page, name="live"),
    path("jobs/<uuid:job_id>/", jobs.job_detail, name="job_detail"),
    path("jobs/<uuid:job_id>/audio/", jobs.job_audio, name="job_audio"),
    path("jobs/<uuid:job_id>/delete/", jobs.job_delete, name="job_delete"),
    path("jobs/<uuid:job_id>/cancel/", jobs.job_cancel, name="job_cancel"),
    path("jobs/<uuid:job_id>/segments/<int:index>/", jobs.segment_edit, name="segment_edit"),
    path(
        "jobs/<uuid:job_id>/segments/<int:index>/speaker/", speakers.segment_speaker, name="segment_speaker"
    ),
    path("jobs/<uuid:job_id>/speakers/<str:key>/rename/", speakers.speaker_rename, name="speaker_rename"),
    path("jobs/<uuid:job_id>/speakers/<str:key>/merge/", speakers.speaker_merge, name="speaker_merge"),
    path("jobs/<uuid:job_id>/speakers/<str:key>/remember/", speakers.voice_remember, name="voice_remember"),
    path("voices/", speakers.voice_list, name="voice_list"),
    path("voices/<int:profile_id>/delete/", speakers.voice_delete, name="voice_delete"),
    path("jobs/<uuid:job_id>/retry/", jobs.job_retry, name="job_retry"),
    path("jobs/<uuid:job_id>/share/", sharing.share_create, name="share_create"),
    path("shares/<int:share_id>/revoke/", sharing.share_revoke, name="share_revoke"),
    path("jobs/<uuid:job_id>/export/<str:fmt>/", jobs.job_export, name="job_export"),
    path("history/", history.history, name="history"),
    path("history/delete/", history.history_delete, name="history_delete"),
    path("history/download/", history.history_download, name="history_download"),
    path("history/clear/", history.history_clear, name="history_clear"),
    path(
        "history/batch/<path:name>/export/<str:fmt>/",
        history.history_batch_export,
        name="history_batch_export",
    ),
    path("workers/", workers.worker_list, name="workers"),
    path("workers/<str:name>/unload/", workers.worker_unload, name="worker_unload"),
]
