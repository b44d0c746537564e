"""Times the upstream PyTorch reference of one codec preset, for model_bench.

    "$(setup/python-venv.sh reference)/bin/python" bench/reference/reference_bench.py \
        --preset=dac_44khz --op=decode --threads=2 --runs=3 \
        --weights=model.safetensors --audio=input.npy --expect_samples=441000

Runs upstream EnCodec (`encodec`), DAC (`descript-audio-codec`), SNAC
(`snac`) and Mimi (kyutai's `moshi`) from their own PyPI packages, on PyPI's
torch 2.11 (the CUDA wheel, on the CPU), in the pinned venv
setup/venvs/reference.txt describes: what a user who picks upstream runs.
The model is built from the preset's published hyper-parameters, loaded
strictly from the same .safetensors checkpoint the C++ row uses, and run on
the same float32 [channels, samples] audio: encode is audio -> codes, decode
is the codes of that audio (upstream's own encode of it) -> audio, as the
C++ backends do. The audio must hold --expect_samples samples per channel,
the length model_bench's own row timed; anything else exits non-zero. One
warm-up, then `--runs` timed calls; prints "<median seconds> <peak RSS MB>".
"""

import argparse
import resource
import statistics
import sys
import time
import warnings

import numpy as np
import torch
from safetensors.torch import load_file

# EnCodec and DAC build with torch's old weight_norm, whose deprecation torch
# 2.11 warns of for every model: noise on model_bench's stderr, not ours to fix.
warnings.filterwarnings("ignore", category=FutureWarning,
                        message=r"`torch\.nn\.utils\.weight_norm` is deprecated")

# Constructor arguments of the published models (their config.json /
# checkpoint metadata), as the C++ presets hold them.
DAC_KWARGS = {
    "dac_16khz": dict(encoder_rates=[2, 4, 5, 8], decoder_rates=[8, 5, 4, 2], n_codebooks=12,
                      sample_rate=16000),
    "dac_24khz": dict(encoder_rates=[2, 4, 5, 8], decoder_rates=[8, 5, 4, 2], n_codebooks=32,
                      sample_rate=24000),
    "dac_44khz": dict(encoder_rates=[2, 4, 8, 8], decoder_rates=[8, 8, 4, 2], n_codebooks=9,
                      sample_rate=44100),
}
SNAC_LARGE = dict(encoder_dim=64, encoder_rates=[2, 3, 8, 8], decoder_dim=1536,
                  decoder_rates=[8, 8, 3, 2], attn_window_size=32, codebook_size=4096,
                  codebook_dim=8, vq_strides=[8, 4, 2, 1], noise=True, depthwise=True)
SNAC_KWARGS = {
    "snac_24khz": dict(sampling_rate=24000, encoder_dim=48, encoder_rates=[2, 4, 8, 8],
                       decoder_dim=1024, decoder_rates=[8, 8, 4, 2], attn_window_size=None,
                       codebook_size=4096, codebook_dim=8, vq_strides=[4, 2, 1], noise=True,
                       depthwise=True),
    "snac_32khz": dict(SNAC_LARGE, sampling_rate=32000),
    "snac_44khz": dict(SNAC_LARGE, sampling_rate=44100),
}


class Encodec:
    def __init__(self, preset):
        from encodec import EncodecModel
        factory = {"encodec_24khz": EncodecModel.encodec_model_24khz,
                   "encodec_48khz": EncodecModel.encodec_model_48khz}[preset]
        self.model = factory(pretrained=False)
        # The C++ default: the largest bandwidth (every quantiser).
        self.model.set_target_bandwidth(max(self.model.target_bandwidths))

    def encode(self, audio):
        return self.model.encode(audio)

    def decode(self, frames):
        return self.model.decode(frames)


class Dac:
    def __init__(self, preset):
        from dac.model.dac import DAC
        self.model = DAC(**DAC_KWARGS[preset])

    def encode(self, audio):
        x = self.model.preprocess(audio, self.model.sample_rate)
        return self.model.encode(x)[1]

    def decode(self, codes):
        return self.model.decode(self.model.quantizer.from_codes(codes)[0])


class Snac:
    def __init__(self, preset):
        from snac import SNAC
        self.model = SNAC(**SNAC_KWARGS[preset])

    def encode(self, audio):
        return self.model.encode(audio)

    def decode(self, codes):
        return self.model.decode(codes)


class Mimi:
    def __init__(self, preset):
        # No NO_TORCH_COMPILE: moshi compiles only on CUDA (its transformer
        # layers enter no_compile() for any other device), so on the CPU
        # upstream runs eagerly by default, as timed here.
        from moshi.models import loaders
        # The published configuration, 8 codebooks, as the C++ default. Both
        # presets (mimi_24khz, mimi_24khz_moshi) time upstream's offline
        # encode / decode here.
        self.model = loaders.get_mimi(None, device="cpu", num_codebooks=8)

    def encode(self, audio):
        return self.model.encode(audio)

    def decode(self, codes):
        return self.model.decode(codes)


def load_audio(path, expect_samples):
    """The [1, channels, samples] audio, if it holds the samples model_bench
    timed: a file another run left (another --seconds) fails here."""
    audio = np.load(path)
    if audio.ndim != 2 or audio.shape[1] != expect_samples:
        sys.exit(f"reference_bench: {path} is {list(audio.shape)} (channels, samples); "
                 f"expected {expect_samples} samples, what our row timed")
    return torch.from_numpy(audio).unsqueeze(0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", required=True)
    parser.add_argument("--op", choices=["encode", "decode"], required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--weights", required=True)
    parser.add_argument("--audio", required=True)
    parser.add_argument("--expect_samples", type=int, required=True,
                        help="samples per channel --audio must hold")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    audio = load_audio(args.audio, args.expect_samples)
    family = {"encodec": Encodec, "dac": Dac, "snac": Snac,
              "mimi": Mimi}[args.preset.split("_")[0]]
    codec = family(args.preset)
    codec.model.load_state_dict(load_file(args.weights), strict=True)
    codec.model.eval()

    with torch.inference_mode():
        codes = codec.encode(audio)  # Also the warm-up of encode.
        if args.op == "encode":
            work = lambda: codec.encode(audio)
        else:
            work = lambda: codec.decode(codes)
            work()
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            work()
            times.append(time.perf_counter() - start)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{statistics.median(times):.6f} {peak_mb:.1f}")


if __name__ == "__main__":
    main()
