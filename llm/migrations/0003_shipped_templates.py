"""The shipped summary templates (llm/shipped_templates.py): only those that are missing are added."""

from django.db import migrations

from llm.shipped_templates import ensure_shipped_templates


def add_templates(apps, schema_editor):
    ensure_shipped_templates(apps.get_model("llm", "SummaryTemplate"))


class Migration(migrations.Migration):
    dependencies = [("llm", "0002_summarytemplate_summary")]

    operations = [migrations.RunPython(add_templates, migrations.RunPython.noop)]
