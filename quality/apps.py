from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "quality"
    verbose_name = "Call quality checks"

    def ready(self) -> None:
        from quality.receivers import on_job_ended
        from quality.upload import upload_fields
        from transcription import forms
        from transcription.signals import job_ended

        job_ended.connect(on_job_ended, dispatch_uid="quality.on_job_ended")
        forms.register_upload_extension(upload_fields)
