from django.apps import AppConfig


class HotwordsConfig(AppConfig):
    name = "hotwords"
    verbose_name = "Hotwords"
