from django.db import migrations

from transcription.shipped_profiles import ensure_shipped_profiles


def create_shipped_profiles(apps, schema_editor):
    ensure_shipped_profiles(apps.get_model("transcription", "EngineProfile"))


class Migration(migrations.Migration):
    dependencies = [("transcription", "0002_engine_profiles")]

    operations = [migrations.RunPython(create_shipped_profiles, migrations.RunPython.noop)]
