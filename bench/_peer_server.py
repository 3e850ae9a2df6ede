"""The simplest peer, for bench/peer.py: what whisper-asr-webservice and most servers like it run.

One process; plain faster-whisper with the library's defaults (`WhisperModel(dir,
compute_type="int8")`, `transcribe(audio, beam_size=5)`); audio decoded by the ffmpeg command line
to 16 kHz mono 16-bit PCM, as their `load_audio` does; one recognition at a time (their model
lock). POST the audio file as the request body to /asr; the answer is {"text": ...}.

    python bench/_peer_server.py --port 9000 --model DIR
"""

from __future__ import annotations

import argparse
import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
from faster_whisper import WhisperModel

READY = "peer ready"


def load_audio(data: bytes) -> np.ndarray:
    """whisper-asr-webservice's load_audio: ffmpeg reads the upload from stdin."""
    command = ["ffmpeg", "-nostdin", "-threads", "0", "-i", "-", "-f", "s16le", "-ac", "1",
               "-acodec", "pcm_s16le", "-ar", "16000", "-"]  # fmt: skip
    out = subprocess.run(command, input=data, capture_output=True, check=True).stdout
    return np.frombuffer(out, np.int16).flatten().astype(np.float32) / 32768.0


def serve(port: int, model_dir: str) -> None:
    model = WhisperModel(model_dir, compute_type="int8")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
            audio = load_audio(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                segments, _ = model.transcribe(audio, beam_size=5)
                text = "".join(segment.text for segment in segments)
            body = json.dumps({"text": text.strip()}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(READY, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model", required=True)
    options = parser.parse_args()
    serve(options.port, options.model)
