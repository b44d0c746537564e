"""Stand-in for audiotools.ml: DAC's model class derives from BaseModel,
which adds save/load helpers the benchmark does not use."""

import torch


class BaseModel(torch.nn.Module):
    INTERN = []
    EXTERN = []


class Accelerator:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("audiotools.ml.Accelerator is not available in the benchmark")
