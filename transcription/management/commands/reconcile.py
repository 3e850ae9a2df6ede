"""`manage.py reconcile`: repair jobs whose worker died or whose queue entry Redis lost.

Every ASR worker also runs this every ASR_RECONCILE_SECONDS, so it is needed by hand only to
look at once (for instance after restoring Redis)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from transcription import queues, services, workers


def reconcile() -> services.ReconcileReport:
    live = {w["name"] for w in workers.list_all(queues.get_queue(settings.ASR_QUEUE).connection)}
    # A job claimed moments ago may belong to a worker whose first heartbeat is on its way.
    return services.jobs_reconcile(live_workers=live, grace_seconds=settings.ASR_HEARTBEAT_SECONDS)


class Command(BaseCommand):
    help = "Re-queue or fail jobs whose worker was lost, and enqueue queued jobs that Redis lost."

    def handle(self, *args, **options) -> None:
        report = reconcile()
        self.stdout.write(
            f"{len(report.requeued)} re-queued, {len(report.failed)} failed as lost, "
            f"{len(report.reenqueued)} enqueued again."
        )
