"""`manage.py reconcile`: repair jobs whose worker died or whose queue entry Redis lost.

Every ASR worker also runs this every ASR_RECONCILE_SECONDS, so it is needed by hand only to
look at once (for instance after restoring Redis)."""

from django.core.management.base import BaseCommand

from transcription import upkeep


class Command(BaseCommand):
    help = "Re-queue or fail jobs whose worker was lost, and enqueue queued jobs that Redis lost."

    def handle(self, *args, **options) -> None:
        report = upkeep.reconcile()
        self.stdout.write(
            f"{len(report.requeued)} re-queued, {len(report.failed)} failed as lost, "
            f"{len(report.reenqueued)} enqueued again."
        )
