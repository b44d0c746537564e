"""The one error class moshi's loaders import from huggingface_hub.utils."""


class EntryNotFoundError(Exception):
    pass
