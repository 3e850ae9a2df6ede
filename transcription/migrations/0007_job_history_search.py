"""Full-text search over transcripts, per database.

SQLite: an FTS5 table `job_fts` (job id, owner id, original_name, text), tokenized with
`trigram` where this SQLite has it (3.34+; substrings match, so Chinese, which has no spaces, is
searchable), else `unicode61`. Its rowid is the `rid` of `job_fts_key` (job id -> rid, owner id),
so deleting or re-indexing one job is a key lookup, and a search reads rowids only. Triggers on
transcription_job keep both in step. NOTE: Django rebuilds a SQLite table for many schema changes
(copy, drop, rename), and dropping the table drops its triggers: a later migration that alters
transcription_job must call `install_sqlite_triggers` again (tests/test_history_search.py fails
if the triggers are missing).

PostgreSQL: a GIN index on the expression PG_DOCUMENT (stored in a column by migration 0009; with the
function history_cjk_bigrams, for Chinese), built concurrently so writes carry on meanwhile; no
extension (no pg_trgm) needed. Other databases:
nothing (search falls back to LIKE).
"""

import sqlite3

from django.db import migrations

# Keyset pages walk (owner_id, queued_at, id) in this index; on SQLite a search tests each id
# found there against the matches without reading the (large) rows. Not in the model's state:
# makemigrations knows nothing of it, so it is created here, as raw SQL, like the others.
HISTORY_INDEX = "transcription_job_history_idx"
HISTORY_COLUMNS = "(owner_id, queued_at DESC, id DESC)"

SQLITE_TABLES = [
    "CREATE TABLE IF NOT EXISTS job_fts_key ("
    " rid INTEGER PRIMARY KEY, job_id CHAR(32) NOT NULL UNIQUE, owner_id INTEGER NOT NULL)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS job_fts USING fts5("
    " job_id UNINDEXED, owner_id UNINDEXED, original_name, text, tokenize = '{tokenizer}')",
]

SQLITE_TRIGGERS = [
    """CREATE TRIGGER IF NOT EXISTS job_fts_insert AFTER INSERT ON transcription_job BEGIN
        INSERT OR REPLACE INTO job_fts_key (job_id, owner_id) VALUES (NEW.id, NEW.owner_id);
        INSERT OR REPLACE INTO job_fts (rowid, job_id, owner_id, original_name, text)
            SELECT rid, NEW.id, NEW.owner_id, NEW.original_name, NEW.text
            FROM job_fts_key WHERE job_id = NEW.id;
    END""",
    """CREATE TRIGGER IF NOT EXISTS job_fts_update
    AFTER UPDATE OF original_name, text, owner_id ON transcription_job
    WHEN OLD.text IS NOT NEW.text OR OLD.original_name IS NOT NEW.original_name
        OR OLD.owner_id IS NOT NEW.owner_id
    BEGIN
        INSERT OR IGNORE INTO job_fts_key (job_id, owner_id) VALUES (NEW.id, NEW.owner_id);
        UPDATE job_fts_key SET owner_id = NEW.owner_id WHERE job_id = NEW.id;
        DELETE FROM job_fts WHERE rowid = (SELECT rid FROM job_fts_key WHERE job_id = NEW.id);
        INSERT OR REPLACE INTO job_fts (rowid, job_id, owner_id, original_name, text)
            SELECT rid, NEW.id, NEW.owner_id, NEW.original_name, NEW.text
            FROM job_fts_key WHERE job_id = NEW.id;
    END""",
    """CREATE TRIGGER IF NOT EXISTS job_fts_delete AFTER DELETE ON transcription_job BEGIN
        DELETE FROM job_fts WHERE rowid = (SELECT rid FROM job_fts_key WHERE job_id = OLD.id);
        DELETE FROM job_fts_key WHERE job_id = OLD.id;
    END""",
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS job_fts_insert",
    "DROP TRIGGER IF EXISTS job_fts_update",
    "DROP TRIGGER IF EXISTS job_fts_delete",
    "DROP TABLE IF EXISTS job_fts",
    "DROP TABLE IF EXISTS job_fts_key",
    f"DROP INDEX IF EXISTS {HISTORY_INDEX}",
]

PG_INDEX = "transcription_job_fts_gin"
# Kana, CJK ideographs (and their extensions), hangul syllables.
PG_CJK = "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0002fa1f]"
# 'simple' keeps a run of Chinese (no spaces) as one word: this keeps the text's other words and
# turns each CJK run into its overlapping character pairs (研发投入 -> 研发 发投 投入).
PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION history_cjk_bigrams(doc text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT regexp_replace(doc, '{PG_CJK}+', ' ', 'g') || ' ' || COALESCE((
        SELECT string_agg(substr(m.run[1], i, 2), ' ')
        FROM regexp_matches(doc, '({PG_CJK}+)', 'g') AS m(run),
             generate_series(1, greatest(length(m.run[1]) - 1, 1)) AS i
    ), '')
$$"""
# The document searches used (migration 0009 stores it in a column since). Marks that glue
# words into one token (review.wav, 3.5, e-mail) become spaces.
PG_DOCUMENT = (
    "to_tsvector('simple'::regconfig, history_cjk_bigrams(regexp_replace("
    "COALESCE(original_name, '') || ' ' || COALESCE(text, ''), '[._/@-]+', ' ', 'g')))"
)
PG_CREATE = (
    f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {PG_INDEX} ON transcription_job USING gin ({PG_DOCUMENT})"
)


def sqlite_tokenizer(cursor) -> str:
    """'trigram' where this SQLite can build it, else 'unicode61'; '' without FTS5 at all."""
    for tokenizer in ("trigram", "unicode61"):
        if tokenizer == "trigram" and sqlite3.sqlite_version_info < (3, 34):
            continue
        try:
            cursor.execute(f"CREATE VIRTUAL TABLE temp.job_fts_probe USING fts5(x, tokenize = '{tokenizer}')")
        except sqlite3.OperationalError:
            continue
        cursor.execute("DROP TABLE temp.job_fts_probe")
        return tokenizer
    return ""


def install_sqlite_triggers(schema_editor) -> None:
    """(Re)create the triggers and the covering index, and index any job that was written while
    the triggers were missing."""
    for sql in SQLITE_TRIGGERS:
        schema_editor.execute(sql)
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {HISTORY_INDEX} ON transcription_job {HISTORY_COLUMNS}"
    )
    schema_editor.execute(
        "INSERT OR IGNORE INTO job_fts_key (job_id, owner_id) SELECT id, owner_id FROM transcription_job"
    )
    schema_editor.execute(
        "INSERT OR REPLACE INTO job_fts (rowid, job_id, owner_id, original_name, text)"
        " SELECT k.rid, j.id, j.owner_id, j.original_name, j.text"
        " FROM transcription_job j JOIN job_fts_key k ON k.job_id = j.id"
        " WHERE k.rid NOT IN (SELECT rowid FROM job_fts)"
    )


def sqlite_forwards(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        tokenizer = sqlite_tokenizer(cursor.cursor)
    if not tokenizer:
        return  # an SQLite without FTS5: search falls back to LIKE
    for sql in SQLITE_TABLES:
        schema_editor.execute(sql.format(tokenizer=tokenizer))
    install_sqlite_triggers(schema_editor)


def sqlite_backwards(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE_DROP:
            schema_editor.execute(sql)


def postgresql_forwards(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION)
        schema_editor.execute(PG_CREATE)
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {HISTORY_INDEX} ON transcription_job {HISTORY_COLUMNS}"
        )


def postgresql_backwards(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {PG_INDEX}")
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {HISTORY_INDEX}")
        schema_editor.execute("DROP FUNCTION IF EXISTS history_cjk_bigrams(text)")


class Migration(migrations.Migration):
    # Not atomic: PostgreSQL builds the index CONCURRENTLY, which cannot run in a transaction.
    atomic = False

    dependencies = [
        ("transcription", "0006_job_attempt_worker"),
    ]

    operations = [
        migrations.RunPython(sqlite_forwards, sqlite_backwards, atomic=True),
        migrations.RunPython(postgresql_forwards, postgresql_backwards, atomic=False),
    ]
