import json
import logging

import pytest

from portal.logs import JobIdFilter, JsonFormatter, job_context
from tests.conftest import AUDIO, run_worker, upload_of
from transcription import services


def record(message: str) -> logging.LogRecord:
    rec = logging.LogRecord("transcription", logging.INFO, __file__, 1, message, (), None)
    JobIdFilter().filter(rec)
    return rec


def test_it_tags_log_lines_with_the_job_being_processed():
    assert record("outside").job_id == "-"
    with job_context("1234"):
        assert record("inside").job_id == "1234"
    assert record("after").job_id == "-"


def test_it_writes_json_lines_for_log_collectors():
    with job_context("abcd"):
        line = json.loads(JsonFormatter().format(record("décodé 中文")))
    assert line["job"] == "abcd" and line["message"] == "décodé 中文" and line["level"] == "INFO"


@pytest.mark.django_db
def test_it_logs_a_whole_job_under_its_id(alice, default_profile, caplog, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = services.job_create(owner=alice, profile=default_profile, upload=upload_of(AUDIO / "zh_01.wav"))
    caplog.clear()  # the upload's own lines are not the job's processing
    caplog.handler.addFilter(JobIdFilter())
    with caplog.at_level(logging.INFO, logger="transcription"):
        run_worker()
    # Every line the portal logged while the worker ran carries the job's id, whatever it says
    # (the engine, the text stage, the end), not only those that name the job.
    lines = [r for r in caplog.records if r.name.startswith("transcription.")]
    assert any(r.name == "transcription.services" and "done" in r.getMessage() for r in lines)
    assert [r for r in lines if r.job_id != str(job.id)] == []
