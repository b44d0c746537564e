"""The part of einops the upstream codecs call at inference: `rearrange`
(and `repeat`, which their k-means initialisation imports) over patterns
of named axes, parenthesised groups, `()`, `1` and one `...`.

Debian ships no einops package; this stands in for it when
reference_bench.py runs the upstream code.
"""

import math

import torch


def _parse(side):
    """'b (h d) ... 1' -> [['b'], ['h', 'd'], '...', []]: a bare ellipsis stays a
    string, one inside parentheses is a name in its group."""
    groups, current = [], None
    for token in side.replace("(", " ( ").replace(")", " ) ").split():
        if token == "(":
            current = []
        elif token == ")":
            groups.append(current)
            current = None
        else:
            names = [] if token == "1" else [token]
            if current is None:
                groups.append(token if token == "..." else names)
            else:
                current.extend(names)
    return groups


def _transform(tensor, pattern, sizes, allow_new_axes):
    left, right = (_parse(side) for side in pattern.split("->"))
    ellipsis_dims = tensor.dim() - (len(left) - ("..." in left))
    ellipsis_names = [f"...{i}" for i in range(ellipsis_dims)]
    axis_sizes, elementary = dict(sizes), []
    dims = iter(tensor.shape)
    for group in left:
        if group == "...":
            for name in ellipsis_names:
                axis_sizes[name] = next(dims)
            elementary.extend(ellipsis_names)
            continue
        size = next(dims)
        unknown = [name for name in group if name not in axis_sizes]
        known = math.prod(axis_sizes[name] for name in group if name in axis_sizes)
        if len(unknown) > 1:
            raise ValueError(f"cannot infer the sizes of {unknown} in '{pattern}'")
        if unknown:
            axis_sizes[unknown[0]] = size // known
        elif known != size:
            raise ValueError(f"axis sizes do not multiply to {size} in '{pattern}'")
        elementary.extend(group)

    # Right-hand groups as lists of elementary axes; a bare ellipsis is one
    # output dimension per ellipsis axis.
    out_groups = []
    for group in right:
        if group == "...":
            out_groups.extend([name] for name in ellipsis_names)
        else:
            out_groups.append([n for name in group for n in (ellipsis_names if name == "..." else [name])])
    out_names = [name for group in out_groups for name in group]
    new_axes = [name for name in out_names if name not in elementary]
    if new_axes and not allow_new_axes:
        raise ValueError(f"'{pattern}' names axes the input lacks: {new_axes}")
    x = tensor.reshape([axis_sizes[name] for name in elementary])
    x = x.permute([elementary.index(name) for name in out_names if name in elementary])
    for position, name in enumerate(out_names):
        if name in new_axes:
            x = x.unsqueeze(position)
    x = x.expand([axis_sizes[name] for name in out_names])
    return x.reshape([math.prod(axis_sizes[name] for name in group) for group in out_groups])


def rearrange(tensor, pattern, **sizes):
    return _transform(tensor, pattern, sizes, allow_new_axes=False)


def repeat(tensor, pattern, **sizes):
    return _transform(tensor, pattern, sizes, allow_new_axes=True)
