"""`manage.py purge [--dry-run]`: apply the retention policy (RETAIN_AUDIO_DAYS,
RETAIN_TRANSCRIPTS_DAYS) and remove stored audio no job refers to. Workers run it hourly."""

from django.core.management.base import BaseCommand

from transcription import upkeep


class Command(BaseCommand):
    help = "Delete recordings and jobs past the retention policy, and orphaned audio files."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Show what would go; change nothing.")

    def handle(self, *args, dry_run: bool, **options) -> None:
        report = upkeep.retention_purge(dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(f"{verb} {report.summary()}.")
        for label, ids in (("recording of job", report.audio_deleted), ("job", report.jobs_deleted),
                           ("orphan file", report.orphan_files)):  # fmt: skip
            for item in ids:
                self.stdout.write(f"  {label} {item}")
