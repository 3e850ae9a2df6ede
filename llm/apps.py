from django.apps import AppConfig


class LlmConfig(AppConfig):
    name = "llm"
    verbose_name = "Language model"

    def ready(self) -> None:
        from llm.receivers import on_job_ended
        from llm.upload import upload_fields
        from transcription import forms
        from transcription.signals import job_ended

        job_ended.connect(on_job_ended, dispatch_uid="llm.on_job_ended")
        forms.register_upload_extension(upload_fields)
