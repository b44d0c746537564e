"""Stand-in for descript-audiotools, which DAC imports for its file-level
helpers and training losses. reference_bench.py calls only the model's
tensor methods (encode, decode, quantizer.from_codes), which need none of it;
anything that does reach these names fails loudly."""

from . import ml


class AudioSignal:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("audiotools.AudioSignal is not available in the benchmark")


class STFTParams:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("audiotools.STFTParams is not available in the benchmark")
