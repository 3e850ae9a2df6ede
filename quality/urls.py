from django.urls import path

from quality import views

urlpatterns = [
    path("quality/batches/<str:batch>/", views.batch_report, name="quality_batch_report"),
    path(
        "quality/batches/<str:batch>/report.csv",
        views.batch_report_file,
        {"fmt": "csv"},
        name="quality_report_csv",
    ),
    path(
        "quality/batches/<str:batch>/report.xlsx",
        views.batch_report_file,
        {"fmt": "xlsx"},
        name="quality_report_xlsx",
    ),
    path("quality/batches/<str:batch>/recheck/", views.batch_recheck, name="quality_batch_recheck"),
    path("quality/jobs/<uuid:job_id>/", views.job_checks, name="quality_job_checks"),
]
