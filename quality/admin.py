"""Rule sets in Django admin: each with its rules inline, for everyone or for one team."""

from __future__ import annotations

from django.contrib import admin

from quality.models import Check, Rule, RuleSet


class RuleInline(admin.TabularInline):
    model = Rule
    extra = 1
    fields = ["ordering", "label", "kind", "phrases", "within_seconds", "speaker"]


@admin.register(RuleSet)
class RuleSetAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "active"]
    list_filter = ["active", "team"]
    list_select_related = ["team"]
    autocomplete_fields = ["team"]
    inlines = [RuleInline]


@admin.register(Check)
class CheckAdmin(admin.ModelAdmin):
    list_display = ["job", "rule_set", "passed", "checked_at"]
    list_filter = ["passed", "rule_set"]
    readonly_fields = ["job", "rule_set", "passed", "results", "checked_at"]
