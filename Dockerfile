# Builds the codec tool (and, as it lands, the server) from Debian's packages.
#   docker build -t codec-server .
#   docker run --rm -v $PWD:/data codec-server encode --model=encodec_24khz \
#       --weights=/data/encodec_24khz-d7cc33bc.th --input=/data/in.wav --output=/data/out.npz
FROM debian:bookworm AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
      g++ bazel-bootstrap bazel-rules-java libabsl-dev libgrpc++-dev protobuf-compiler-grpc \
      libprotobuf-dev protobuf-compiler libtorch-dev libgtest-dev googletest libbenchmark-dev \
      libsndfile1-dev libsoxr-dev nlohmann-json3-dev zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN bazel build //backends:codec_tool && cp bazel-bin/backends/codec_tool /usr/local/bin/

FROM debian:bookworm
# OpenBLAS replaces the reference BLAS libtorch would otherwise call: 3-10x
# faster models (docs/BENCHMARKS.md).
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
      libtorch1.13 libabsl20220623 libsndfile1 libsoxr0 libopenblas0-openmp \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/bin/codec_tool /usr/local/bin/codec_tool
ENTRYPOINT ["codec_tool"]
