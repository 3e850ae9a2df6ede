from django.urls import path

from llm import views

urlpatterns = [
    path("jobs/<uuid:job_id>/summary/", views.summary_page, name="summary_page"),
    path("jobs/<uuid:job_id>/summary/ask/", views.summary_request, name="summary_request"),
    path("jobs/<uuid:job_id>/summary/edit/", views.summary_edit, name="summary_edit"),
    path("jobs/<uuid:job_id>/questions/", views.question_ask, name="question_ask"),
    path("jobs/<uuid:job_id>/summary.md", views.summary_download, name="summary_download"),
    path(
        "jobs/<uuid:job_id>/summary.docx",
        views.summary_download,
        {"fmt": "docx"},
        name="summary_download_docx",
    ),
]
