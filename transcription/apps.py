from django.apps import AppConfig


class TranscriptionConfig(AppConfig):
    name = "transcription"
    verbose_name = "Transcription"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_out
        from django.db.models.signals import post_delete, post_save, pre_save

        from portal.i18n import register_stored_templates
        from teams.models import Membership
        from transcription import audio, quotas, receivers, upkeep
        from transcription.models import Job

        # Job errors made from these are stored in English and translated when shown.
        register_stored_templates(
            audio.NOT_ACCEPTED, audio.TOO_LONG, audio.TOO_BIG, upkeep.WORKER_LOST, upkeep.SET_ASIDE
        )
        post_delete.connect(
            receivers.delete_audio_with_job, sender=Job, dispatch_uid="transcription.audio_with_job"
        )
        # An open websocket closes when its session ends (log-out, new password, deactivation).
        user = get_user_model()
        user_logged_out.connect(receivers.on_logged_out, dispatch_uid="transcription.on_logged_out")
        pre_save.connect(receivers.on_user_saving, sender=user, dispatch_uid="transcription.on_user_saving")
        post_save.connect(receivers.on_user_saved, sender=user, dispatch_uid="transcription.on_user_saved")
        post_delete.connect(
            receivers.on_user_deleted, sender=user, dispatch_uid="transcription.on_user_deleted"
        )
        # Every job's upload goes in the usage ledger once, however its row is created.
        post_save.connect(quotas.usage_on_job_saved, sender=Job, dispatch_uid="transcription.usage_record")
        post_delete.connect(
            receivers.on_membership_deleted,
            sender=Membership,
            dispatch_uid="transcription.on_membership_deleted",
        )
