from django.apps import AppConfig


class TranscriptionConfig(AppConfig):
    name = "transcription"
    verbose_name = "Transcription"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from portal.i18n import register_stored_templates
        from transcription import audio, upkeep
        from transcription.models import Job
        from transcription.receivers import delete_audio_with_job

        post_delete.connect(delete_audio_with_job, sender=Job, dispatch_uid="transcription.audio_with_job")
        # Job errors made from these are stored in English and translated when shown.
        register_stored_templates(
            audio.NOT_ACCEPTED, audio.TOO_LONG, audio.TOO_BIG, upkeep.WORKER_LOST, upkeep.SET_ASIDE
        )
