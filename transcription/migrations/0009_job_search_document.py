"""PostgreSQL: keep each job's search document in a column instead of an expression index.

Migration 0007 indexed the expression `to_tsvector(... history_cjk_bigrams(...))`. The GIN index
answers which jobs match, but to give the newest matches first PostgreSQL often walks the user's
jobs newest first and evaluates the expression on each row: ~0.23 ms a job (500-word transcripts),
so a word in 9 % of 100,000 jobs took 66 ms of the page's 70-90 ms, and a word in 1 % would
evaluate ~2,600 rows. Stored in `search_document` (kept by a trigger whenever the name or the
text is written), checking a row is reading a value. The Django model does not know the column:
only the search reads it, by name (selectors.HISTORY_PG_DOCUMENT). SQLite keeps its FTS5 table.

Existing rows are filled in one UPDATE (on a large history, minutes: run it at a quiet time).
"""

import importlib

from django.db import migrations

history_search = importlib.import_module("transcription.migrations.0007_job_history_search")

INDEX = "transcription_job_search_gin"
FUNCTION = "transcription_job_search_document"
DOCUMENT = history_search.PG_DOCUMENT  # the same words as before, computed once per write
NEW_DOCUMENT = DOCUMENT.replace("COALESCE(original_name", "COALESCE(NEW.original_name").replace(
    "COALESCE(text", "COALESCE(NEW.text"
)  # the same expression over the row being written
assert NEW_DOCUMENT.count("NEW.") == 2

FORWARDS = [
    "ALTER TABLE transcription_job ADD COLUMN IF NOT EXISTS search_document tsvector",
    f"""CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_document := {NEW_DOCUMENT};
    RETURN NEW;
END $$""",
    f"DROP TRIGGER IF EXISTS {FUNCTION}_insert ON transcription_job",
    f"""CREATE TRIGGER {FUNCTION}_insert BEFORE INSERT ON transcription_job
FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()""",
    f"DROP TRIGGER IF EXISTS {FUNCTION}_update ON transcription_job",
    # Progress and status writes leave the text alone: only a changed name or text recomputes.
    f"""CREATE TRIGGER {FUNCTION}_update BEFORE UPDATE OF original_name, text ON transcription_job
FOR EACH ROW WHEN (OLD.original_name IS DISTINCT FROM NEW.original_name OR OLD.text IS DISTINCT FROM NEW.text)
EXECUTE FUNCTION {FUNCTION}()""",
    f"UPDATE transcription_job SET search_document = {DOCUMENT}",
    # Statistics for the new column now: without them the planner guessed 500 matches for every
    # word and a common one took 120 ms instead of 4 (bench/history.py, 100,000 jobs).
    "ANALYZE transcription_job",
]
BACKWARDS = [
    f"DROP TRIGGER IF EXISTS {FUNCTION}_insert ON transcription_job",
    f"DROP TRIGGER IF EXISTS {FUNCTION}_update ON transcription_job",
    f"DROP FUNCTION IF EXISTS {FUNCTION}()",
    "ALTER TABLE transcription_job DROP COLUMN IF EXISTS search_document",
]


def forwards(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in FORWARDS:
        schema_editor.execute(sql)
    # Outside a transaction (the migration is not atomic): built without locking out writes.
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON transcription_job USING gin (search_document)"
    )
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {history_search.PG_INDEX}")


def backwards(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(history_search.PG_CREATE)
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")
    for sql in BACKWARDS:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("transcription", "0008_job_dispatched_at"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, atomic=False),
    ]
