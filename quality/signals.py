"""What other apps can hear from quality: `check_failed(sender=Check, check=<Check>)`, sent once a
failed check of a finished job is committed (webhooks/ sends `job.qa_failed`)."""

from django.dispatch import Signal

check_failed = Signal()
