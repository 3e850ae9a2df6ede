/* global AudioWorkletProcessor, registerProcessor, sampleRate -- the audio worklet scope's own globals */
/* The live page's microphone, in the audio thread: the input resampled to 16 kHz mono and posted
   as 16-bit samples a tenth of a second at a time, with the loudness for the level meter. */
const RATE = 16000;
const FRAME = RATE / 10;

class PcmCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / RATE; // input samples per output sample (sampleRate: the context's)
    this.position = 0; // where the next output sample starts, in input samples from this block
    this.sum = 0; this.count = 0; // the input samples averaged into the next output sample
    this.frame = new Int16Array(FRAME); this.filled = 0; this.energy = 0;
  }

  process(inputs) {
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true;
    const length = channels[0].length;
    for (let i = 0; i < length; i++) {
      let value = 0;
      for (const channel of channels) value += channel[i];
      this.sum += value / channels.length; this.count += 1;
      if (i + 1 >= this.position + this.step) { // an output sample's input is complete: the average
        this.emit(this.sum / this.count);
        this.sum = 0; this.count = 0; this.position += this.step;
      }
    }
    this.position -= length;
    return true;
  }

  emit(sample) {
    const clipped = Math.max(-1, Math.min(1, sample));
    this.frame[this.filled++] = clipped < 0 ? clipped * 32768 : clipped * 32767;
    this.energy += clipped * clipped;
    if (this.filled < FRAME) return;
    this.port.postMessage({ pcm: this.frame.buffer, level: Math.sqrt(this.energy / FRAME) }, [this.frame.buffer]);
    this.frame = new Int16Array(FRAME); this.filled = 0; this.energy = 0;
  }
}

registerProcessor("pcm-capture", PcmCapture);
