"""Job.dispatched_at: fair scheduling keeps the database as the queue of record and puts only a
window of queued jobs on the RQ queue; this records which ones are there.

Jobs already queued were all enqueued the old way, so they count as dispatched (reconcile checks
that Redis really holds them). On SQLite, adding a column may rebuild transcription_job, which
drops migration 0007's full-text triggers: they are installed again.
"""

import importlib

from django.db import migrations, models
from django.db.models import F

history_search = importlib.import_module("transcription.migrations.0007_job_history_search")


def mark_queued_as_dispatched(apps, schema_editor) -> None:
    Job = apps.get_model("transcription", "Job")
    Job.objects.filter(status="queued").update(dispatched_at=F("queued_at"))


def reinstall_sqlite_triggers(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    if "job_fts_key" in schema_editor.connection.introspection.table_names():  # FTS5 was available
        history_search.install_sqlite_triggers(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("transcription", "0007_job_history_search"),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="dispatched_at",
            field=models.DateTimeField(
                blank=True,
                help_text="When this queueing was put on the RQ queue (fair scheduling's window); "
                "empty while it waits in the database only.",
                null=True,
            ),
        ),
        migrations.RunPython(mark_queued_as_dispatched, migrations.RunPython.noop),
        migrations.RunPython(reinstall_sqlite_triggers, migrations.RunPython.noop),
    ]
