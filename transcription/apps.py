from django.apps import AppConfig


class TranscriptionConfig(AppConfig):
    name = "transcription"
    verbose_name = "Transcription"

    def ready(self) -> None:
        from portal.i18n import register_stored_templates
        from transcription import audio, upkeep

        # Job errors made from these are stored in English and translated when shown.
        register_stored_templates(audio.NOT_ACCEPTED, audio.TOO_LONG, audio.TOO_BIG, upkeep.WORKER_LOST)
