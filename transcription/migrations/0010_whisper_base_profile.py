from django.db import migrations

from transcription.shipped_profiles import WHISPER_BASE, ensure_shipped_profiles


def add_whisper_base(apps, schema_editor):
    ensure_shipped_profiles(apps.get_model("transcription", "EngineProfile"), names=(WHISPER_BASE,))


def remove_whisper_base(apps, schema_editor):
    apps.get_model("transcription", "EngineProfile").objects.filter(name=WHISPER_BASE, jobs=None).delete()


class Migration(migrations.Migration):
    dependencies = [("transcription", "0009_job_search_document")]

    operations = [migrations.RunPython(add_whisper_base, remove_whisper_base)]
