"""Stand-in for argbind, which DAC's utilities use only to bind command-line
arguments: `bind` returns the function unchanged."""


def bind(*args, **kwargs):
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return args[0]
    return lambda function: function
