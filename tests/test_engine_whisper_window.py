"""transcription/engine/whisper_window.py: Whisper's window cut to the audio, in one thread only."""

from __future__ import annotations

import threading

import numpy as np
from faster_whisper import transcribe

from transcription.engine.whisper_window import encoder_window


def test_it_pads_to_a_window_just_past_the_audio_in_its_own_thread_only():
    features = np.zeros((80, 1240), dtype=np.float32)  # 12.4 s of mel frames
    elsewhere = []
    with encoder_window(12.4) as frames:
        assert frames == 1500  # 12.4 s + 2.5 s of margin, in 5 s steps
        assert transcribe.pad_or_trim(features).shape == (80, 1500)
        other = threading.Thread(target=lambda: elsewhere.append(transcribe.pad_or_trim(features).shape))
        other.start()
        other.join()
    assert elsewhere == [(80, 3000)]  # a decoding in another thread: 30 s as ever
    assert transcribe.pad_or_trim(features).shape == (80, 3000)
    with encoder_window(29.0) as frames:
        assert frames == 3000  # never past Whisper's own window
    with encoder_window(3.0):
        with encoder_window(20.0) as frames:
            assert frames == 2500 and transcribe.pad_or_trim(features).shape == (80, 2500)
        assert transcribe.pad_or_trim(features).shape == (80, 1000)  # the outer one's again
