"""fuzz_target: a libFuzzer target and a test that replays its seeds."""

def fuzz_target(name, srcs, deps, seeds):
    """Defines `name` and `name_replay`.

    `name` is the libFuzzer binary, built only under --config=fuzz (clang,
    -fsanitize=fuzzer,address,undefined; tests/fuzz/run.sh). `name_replay`
    runs the same entry point over `seeds` with any compiler, so
    `bazel test //...` keeps every target building and its seeds passing.
    """
    native.cc_binary(
        name = name,
        srcs = srcs,
        linkopts = ["-fsanitize=fuzzer"],
        tags = ["manual"],
        deps = deps,
    )
    native.cc_test(
        name = name + "_replay",
        srcs = srcs + ["replay_main.cc"],
        args = ["$(locations %s)" % seed for seed in seeds],
        data = seeds,
        deps = deps,
    )
