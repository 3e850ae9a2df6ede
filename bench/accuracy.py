"""How accurate a profile is on a test set: word error rate for English, character error rate for
Chinese (jiwer), before and after the portal's text stage (ITN and hotword correction), the
real-time factor, and the worst files.

A manifest is one of:
  - a folder of audio files, each with its reference beside it (`clip.wav` + `clip.txt`);
  - a Kaldi-style folder with `wav.scp` ("<id> <path>") and `text` ("<id> <reference>"), as
    AISHELL-1 and LibriSpeech are usually prepared;
  - a TSV file "<id>\\t<reference>" whose ids name `<id>.wav` beside it (tests/fixtures/audio).

Each file goes through the engine as the worker runs it (decoded in the sandbox, one
`transcribe_many` call, `postprocess.polish` with the profile's ITN choice and the hotwords given),
on this machine, one file at a time. References and hypotheses are normalized the same way: lower
case, punctuation removed; for Chinese, every space too (CER is over characters), and Traditional
digits count as their Chinese numerals (1500 as 一五〇〇: references are written as spoken).

Run it by hand from the repository root, on the installation whose profiles it measures:

    .venv/bin/python bench/accuracy.py --profile "Whisper tiny.en (offline demo)" MANIFEST
    .venv/bin/python bench/accuracy.py --profile "Paraformer-zh (hotwords)" --language zh \\
        /data/aishell1/test            # wav.scp + text; after `manage.py fetch_models paraformer-zh`
    [--hotwords FILE] [--itn on|off] [--limit N] [--worst 10] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass
class Row:
    id: str
    seconds: float
    processing: float
    reference: str
    raw: str  # the model's words
    text: str  # after the portal's text stage
    errors_raw: float = 0.0
    errors: float = 0.0


def read_manifest(path: Path) -> list[tuple[str, Path, str]]:
    """(id, audio path, reference) for every entry of the manifest."""
    if path.is_file():
        rows = [line.split("\t", 1) for line in path.read_text().splitlines() if "\t" in line]
        return [(key, path.parent / f"{key}.wav", ref) for key, ref in rows]
    if (path / "wav.scp").exists():
        scp = dict(
            line.split(maxsplit=1) for line in (path / "wav.scp").read_text().splitlines() if line.strip()
        )
        text = dict(_split(line) for line in (path / "text").read_text().splitlines() if line.strip())
        return [(key, Path(scp[key]), text[key]) for key in scp if key in text]
    entries = []
    for reference in sorted(path.glob("*.txt")):
        audio = next((p for p in path.glob(f"{reference.stem}.*") if p.suffix != ".txt"), None)
        if audio:
            entries.append((reference.stem, audio, reference.read_text().strip()))
    return entries


def _split(line: str) -> tuple[str, str]:
    key, _, rest = line.partition(" ")
    return key, rest.strip()


# For CER, a digit counts as its Chinese numeral (1500 as 一五〇〇): references are written as spoken,
# and a model (or the portal's ITN) that writes digits is not charged for the script, roughly.
DIGITS = str.maketrans("0123456789", "〇一二三四五六七八九")


def normalize(text: str, *, chinese: bool) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(" " if unicodedata.category(c).startswith("P") else c for c in text)
    return "".join(text.translate(DIGITS).split()) if chinese else " ".join(text.split())


def error_rate(references: list[str], hypotheses: list[str], *, chinese: bool) -> float:
    """Corpus WER (English) or CER (Chinese) with jiwer: total edits over total reference units."""
    import jiwer

    pairs = [
        (normalize(r, chinese=chinese), normalize(h, chinese=chinese))
        for r, h in zip(references, hypotheses, strict=True)
    ]
    pairs = [(r, h) for r, h in pairs if r]
    if not pairs:
        return 0.0
    refs, hyps = [r for r, _ in pairs], [h for _, h in pairs]
    return jiwer.cer(refs, hyps) if chinese else jiwer.wer(refs, hyps)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--profile", required=True, help="an engine profile's name (Django admin)")
    parser.add_argument("--language", choices=["auto", "en", "zh"], default="auto",
                        help="WER (en) or CER (zh); auto: CER when the references hold Chinese")  # fmt: skip
    parser.add_argument("--hotwords", type=Path, help="a file of phrases, one per line")
    parser.add_argument("--itn", choices=["profile", "on", "off"], default="profile")
    parser.add_argument("--limit", type=int, default=0, help="only the first N files")
    parser.add_argument("--worst", type=int, default=10)
    parser.add_argument("--json", type=Path, help="write every file's row here")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.conf import settings

    from transcription import media_sandbox, postprocess, profiles
    from transcription.engine import get_engine
    from transcription.models import EngineProfile

    profile = EngineProfile.objects.get(name=args.profile)
    readiness = profiles.readiness(profile)
    if not readiness.runnable:
        sys.exit(f"Profile '{profile.name}' cannot run here: {readiness.message}")
    entries = read_manifest(args.manifest)[: args.limit or None]
    if not entries:
        sys.exit(f"No audio with a reference found in {args.manifest}.")
    chinese = args.language == "zh" or (
        args.language == "auto" and any(CJK.search(ref) for _, _, ref in entries)
    )
    itn = profile.itn_default if args.itn == "profile" else args.itn == "on"
    hotwords = args.hotwords.read_text().split("\n") if args.hotwords else []
    hotwords = [h.strip() for h in hotwords if h.strip()]
    engine = get_engine(profiles.engine_config(profile))
    unit, itn_word = ("CER" if chinese else "WER"), ("on" if itn else "off")
    print(f"{profile.name}: {len(entries)} files, {unit}, ITN {itn_word}, {len(hotwords)} hotwords")

    rows = []
    for key, path, reference in entries:
        samples = media_sandbox.decode_isolated(
            path, max_seconds=settings.ASR_MAX_AUDIO_SECONDS, max_decoded_bytes=settings.ASR_MAX_DECODED_BYTES
        )
        started = time.perf_counter()
        [transcript] = engine.transcribe_many([samples], hotwords=hotwords, itn=itn)
        result = postprocess.polish(transcript, itn=itn and not engine.builtin_itn, hotwords=hotwords)
        row = Row(
            key, samples.size / 16_000, time.perf_counter() - started, reference, result.raw_text, result.text
        )
        row.errors_raw = error_rate([reference], [row.raw], chinese=chinese)
        row.errors = error_rate([reference], [row.text], chinese=chinese)
        rows.append(row)
    report(rows, chinese=chinese, worst=args.worst)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=1))


def report(rows: list[Row], *, chinese: bool, worst: int) -> None:
    unit = "CER" if chinese else "WER"
    references = [r.reference for r in rows]
    before = error_rate(references, [r.raw for r in rows], chinese=chinese)
    after = error_rate(references, [r.text for r in rows], chinese=chinese)
    audio, processing = sum(r.seconds for r in rows), sum(r.processing for r in rows)
    print(f"\n{unit} before the text stage (the model's words): {before:.2%}")
    print(f"{unit} after ITN and hotword correction:        {after:.2%}")
    print(f"real-time factor: {processing / audio:.3f} ({processing:.1f} s for {audio:.1f} s of audio)")
    print(f"\nworst {min(worst, len(rows))} files ({unit} after the text stage):")
    for row in sorted(rows, key=lambda r: r.errors, reverse=True)[:worst]:
        print(f"  {row.errors:7.2%}  {row.id}\n           ref: {row.reference}\n           hyp: {row.text}")


if __name__ == "__main__":
    main()
