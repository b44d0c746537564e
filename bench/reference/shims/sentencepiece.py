"""Stand-in: moshi's text conditioner imports SentencePieceProcessor; Mimi needs none."""


class SentencePieceProcessor:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("no sentencepiece here")
