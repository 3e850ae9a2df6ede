"""The shape of the code, checked: no import cycle, no app importing an app that builds on it,
every selector scoped to a user, a Django-free engine, modules of a readable size, one way to run
a job. Read from the source (every import, the lazy ones inside functions too), so a cycle cannot
hide behind a late import. docs/architecture.md describes the layers these tests hold."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Lowest first: a module may import its own app and the apps before it, never one after it.
# `portal` here is the shared infrastructure (settings readers, queues, logs, i18n); the
# composition root below wires the apps together and may import them all. New apps that react
# to jobs (speakers, summaries, quality checks) go after `transcription`; `teams` comes before
# `hotwords`, whose lists (like templates and rule sets) may belong to a team.
LAYERS = [
    "portal",
    "audit",
    "teams",
    "accounts",
    "quotas",
    "hotwords",
    "transcription",
    "llm",
    "quality",
    "webhooks",
    "api",
]
COMPOSITION_ROOT = {"portal.urls", "portal.asgi"}
MAX_MODULE_LINES = 350
# Modules that must not know Django (nor any other part of the portal but each other).
DJANGO_FREE = [
    "transcription.engine",
    "transcription.text",
    "transcription.audio",
    "transcription.mono16k",
    "transcription.media_sandbox",
    "transcription.media_child",
    "transcription.diarize",
    "transcription.embedders",
    "transcription.calls",
    "llm.client",
    "quality.matching",
    "transcription.hotword_fix",
    "transcription.speaker_turns",
]


def _modules() -> dict[str, Path]:
    found = {}
    for app in LAYERS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(name: str) -> set[str]:
    """The project modules `name` imports, anywhere in its body: `from a import b` counts as
    a.b when that is a module, else as a."""
    tree = ast.parse(MODULES[name].read_text())
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + [base]
                ).strip(".")
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {module for module in found if module in MODULES and module != name}


GRAPH = {name: _imports(name) for name in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return components


def test_it_finds_a_cycle_when_there_is_one():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_it_has_no_import_cycle():
    assert _cycles(GRAPH) == []


def test_it_never_imports_an_app_that_builds_on_this_one():
    upward = []
    for name, targets in GRAPH.items():
        if name in COMPOSITION_ROOT:
            continue
        level = LAYERS.index(name.split(".")[0])
        upward += [(name, t) for t in targets if LAYERS.index(t.split(".")[0]) > level]
    assert upward == []


def test_it_keeps_the_engine_text_and_audio_free_of_django():
    for name, path in MODULES.items():
        if not any(name == free or name.startswith(free + ".") for free in DJANGO_FREE):
            continue
        tree = ast.parse(path.read_text())
        imported = {
            alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
        }
        imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not any(
            module.split(".")[0] in ("django", "rest_framework", "channels") for module in imported
        ), name
        portal_parts = {
            t for t in GRAPH[name] if not any(t == f or t.startswith(f + ".") for f in DJANGO_FREE)
        }
        assert portal_parts == set(), name


@pytest.mark.parametrize("name", [n for n in MODULES if n.split(".")[-1] == "selectors"])
def test_it_scopes_every_selector_to_a_user(name):
    module = __import__(name, fromlist=["_"])
    public = [
        obj
        for attr, obj in vars(module).items()
        if inspect.isfunction(obj) and obj.__module__ == name and not attr.startswith("_")
    ]
    assert public
    for function in public:
        parameter = inspect.signature(function).parameters.get("user")
        assert parameter is not None and parameter.kind is inspect.Parameter.KEYWORD_ONLY, function.__name__


def test_it_keeps_the_modules_of_transcription_readable():
    long = {n: len(p.read_text().splitlines()) for n, p in MODULES.items() if n.startswith("transcription")}
    assert {n: lines for n, lines in long.items() if lines > MAX_MODULE_LINES} == {}


def test_it_gives_engines_one_way_to_recognise():
    # A lone job is a batch of one: progress, cancel, the out-of-memory retry and finishing exist
    # once (transcription/runner.py), because an engine has no other way to be called.
    from transcription.engine.funasr_engine import FunasrEngine
    from transcription.engine.interface import Engine
    from transcription.engine.whisper_engine import WhisperEngine

    def recognising(cls) -> set[str]:
        return {a for a in vars(cls) if not a.startswith("_") and callable(getattr(cls, a))}

    assert recognising(Engine) == {"transcribe_many"}
    assert recognising(FunasrEngine) == recognising(WhisperEngine) == {"transcribe_many"}
