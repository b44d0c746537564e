"""Times the upstream PyTorch reference of one codec preset, for model_bench.

    reference_bench.py --upstream=DIR --preset=dac_44khz --op=decode --threads=2 \
        --runs=3 --weights=model.safetensors --audio=input.npy

DIR holds checkouts of the upstream repositories, named `encodec`
(facebookresearch/encodec), `descript-audio-codec`, `snac`
(hubertsiuzdak/snac) and `moshi` (kyutai-labs/moshi). The model is built
from the preset's published hyper-parameters, loaded strictly from the same .safetensors checkpoint the
C++ row uses, and run on the same float32 [channels, samples] audio: encode
is audio -> codes, decode is the codes of that audio -> audio, as the C++
backends do. One warm-up, then `--runs` timed calls; prints
"<median seconds> <peak RSS MB>".

Needs Debian's python3-torch, python3-numpy, python3-torchaudio and
python3-tqdm; shims/ stands in for the few packages Debian lacks (einops,
argbind, audiotools; for moshi's imports huggingface_hub, safetensors and
sentencepiece, which Mimi itself never calls) and for the torch 2 functions
SNAC and moshi call.
"""

import argparse
import json
import os
import resource
import statistics
import struct
import sys
import time

import numpy as np
import torch

SHIMS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "shims")

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


def read_safetensors(path):
    """name -> tensor, for the float32 / int64 tensors model_bench writes."""
    dtypes = {"F32": np.float32, "I64": np.int64}
    with open(path, "rb") as f:
        (header_size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_size))
        data = f.read()
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        array = np.frombuffer(data[begin:end], dtype=dtypes[entry["dtype"]])
        tensors[name] = torch.from_numpy(array.reshape(entry["shape"]).copy())
    return tensors


def install_torch2_functions():
    """What SNAC calls from torch 2, on torch 1.13: `parametrizations.weight_norm`
    (the same `original0` (g) / `original1` (v) parameters, the weight
    recomputed on every access as torch 2 does) and
    `scaled_dot_product_attention` (softmax(q k^T / sqrt(d)) v, with moshi's
    boolean mask: True where a query may attend)."""
    from torch.nn.utils import parametrizations, parametrize

    class WeightNorm(torch.nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.dim = dim

        def forward(self, weight_g, weight_v):
            return torch._weight_norm(weight_v, weight_g, self.dim)

        def right_inverse(self, weight):
            return torch.norm_except_dim(weight, 2, self.dim), weight

    def weight_norm(module, name="weight", dim=0):
        parametrize.register_parametrization(module, name, WeightNorm(dim))
        return module

    def scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False):
        assert dropout_p == 0.0 and not is_causal
        scores = torch.matmul(q, k.transpose(-2, -1)) / q.size(-1) ** 0.5
        if attn_mask is not None:
            scores = scores.masked_fill(~attn_mask, float("-inf"))
        return torch.matmul(scores.softmax(dim=-1), v)

    if not hasattr(parametrizations, "weight_norm"):
        parametrizations.weight_norm = weight_norm
    if not hasattr(torch.nn.functional, "scaled_dot_product_attention"):
        torch.nn.functional.scaled_dot_product_attention = scaled_dot_product_attention


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
        install_torch2_functions()
        from snac import SNAC
        self.model = SNAC(**SNAC_KWARGS[preset])

    def encode(self, audio):
        return self.model.encode(audio)

    def decode(self, codes):
        return self.model.decode(codes)


class Mimi:
    def __init__(self, preset):
        install_torch2_functions()
        os.environ["NO_TORCH_COMPILE"] = "1"  # torch 1.13 has no torch.compile.
        from moshi.models import loaders
        # The published configuration, 8 codebooks, as the C++ default. Both
        # presets compute upstream's offline encode / decode here.
        self.model = loaders.get_mimi(None, num_codebooks=8)

    def encode(self, audio):
        return self.model.encode(audio)

    def decode(self, codes):
        return self.model.decode(codes)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--preset", required=True)
    parser.add_argument("--op", choices=["encode", "decode"], required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--weights", required=True)
    parser.add_argument("--audio", required=True)
    args = parser.parse_args()

    # moshi's Python package is the repository's moshi/moshi.
    sys.path[:0] = [SHIMS] + [os.path.join(args.upstream, name)
                              for name in ("encodec", "descript-audio-codec", "snac",
                                           os.path.join("moshi", "moshi"))]
    torch.set_num_threads(args.threads)
    family = {"encodec": Encodec, "dac": Dac, "snac": Snac,
              "mimi": Mimi}[args.preset.split("_")[0]]
    codec = family(args.preset)
    codec.model.load_state_dict(read_safetensors(args.weights), strict=True)
    codec.model.eval()
    audio = torch.from_numpy(np.load(args.audio)).unsqueeze(0)

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
