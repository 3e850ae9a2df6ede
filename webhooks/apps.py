from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from django.db.models.signals import pre_delete

        from quality.signals import check_failed
        from transcription.models import Job
        from transcription.signals import job_ended
        from webhooks.receivers import on_check_failed, on_job_deleting, on_job_ended

        job_ended.connect(on_job_ended, dispatch_uid="webhooks.on_job_ended")
        check_failed.connect(on_check_failed, dispatch_uid="webhooks.on_check_failed")
        pre_delete.connect(on_job_deleting, sender=Job, dispatch_uid="webhooks.on_job_deleting")
