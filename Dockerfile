# The CPU image of the codec server: codec_server, codec_tool and
# codec_client on Debian's libtorch with OpenBLAS, running as a non-root
# user, serving models from the /models volume. Built and run by
# deploy/test_image.sh (podman); deploy/README.md has the operators' guide.
#   docker build -t codec-server .
#   docker run --rm -p 50051:50051 -p 9090:9090 -v $PWD/tests/fixtures:/models:ro \
#       codec-server --models=tiny=encodec:encodec24_tiny_bw6
# Flags come as arguments (after the image name) or from the environment as
# FLAGS_<name> for the flags in --tryfromenv below (FLAGS_models=...). The
# GPU variant is deploy/Dockerfile.cuda; keep the two in step.
ARG BASE=debian:bookworm

FROM ${BASE} AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ bazel-bootstrap bazel-rules-java libabsl-dev libgrpc++-dev protobuf-compiler-grpc \
      libprotobuf-dev protobuf-compiler libtorch-dev libdnnl-dev libsleef-dev libsndfile1-dev libsoxr-dev \
      nlohmann-json3-dev zlib1g-dev prometheus-cpp-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Bazel's sandbox needs namespaces a container build may not grant.
RUN bazel build --spawn_strategy=local //server:codec_server //tool:codec_tool \
      //client:codec_client \
    && install -m 0755 -t /usr/local/bin bazel-bin/server/codec_server \
      bazel-bin/tool/codec_tool bazel-bin/client/codec_client \
    && bazel shutdown

FROM ${BASE} AS runtime
# OpenBLAS replaces the reference BLAS libtorch would otherwise call: 3-10x
# faster models (docs/BENCHMARKS.md).
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libtorch1.13 libdnnl2 libsleef3 libabsl20220623 libgrpc++1.51 libprotobuf32 libsndfile1 libsoxr0 \
      libprometheus-cpp-core1.0 libopenblas0-openmp \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin codec \
    && mkdir /models
COPY --from=build /usr/local/bin/codec_server /usr/local/bin/codec_tool \
     /usr/local/bin/codec_client /usr/local/bin/
USER 10001
VOLUME /models
# gRPC (CodecService, ModelService, health, reflection) and Prometheus.
EXPOSE 50051 9090
ENV FLAGS_listen=0.0.0.0:50051 \
    FLAGS_model_repository=/models \
    FLAGS_metrics_listen=0.0.0.0:9090
HEALTHCHECK --interval=10s --timeout=6s \
  CMD ["codec_client", "health", "--server=127.0.0.1:50051", "--timeout_seconds=5"]
# SIGTERM drains the streams for up to --shutdown_grace_seconds (30), then
# the server exits: give the container's stop timeout more than that.
STOPSIGNAL SIGTERM
ENTRYPOINT ["codec_server", "--tryfromenv=listen,model_repository,models,devices,metrics_listen,log_format,threads,max_batch,batch_window_ms,max_models,max_stream_memory_mb,shutdown_grace_seconds,cpu_block_cache_mb,precision,tls_cert,tls_key,tls_client_ca,auth_token_file,admin_token_file,admin_listen,allow_tf32"]
