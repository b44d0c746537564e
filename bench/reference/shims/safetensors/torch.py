"""Stand-in for safetensors.torch.load_file (moshi's loaders import it)."""


def load_file(path, device="cpu"):
    raise RuntimeError("reference_bench.py reads .safetensors itself")
