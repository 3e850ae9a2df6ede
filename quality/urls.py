from django.urls import path

from quality import views

urlpatterns = [
    path("quality/batches/<str:batch>/", views.batch_report, name="quality_batch_report"),
    path("quality/batches/<str:batch>/report.csv", views.batch_report_csv, name="quality_batch_report_csv"),
    path("quality/batches/<str:batch>/recheck/", views.batch_recheck, name="quality_batch_recheck"),
]
