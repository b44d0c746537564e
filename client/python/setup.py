"""Generates the codec.v1 messages and gRPC stubs into the build, so that the
wheel carries them: protoc and grpc_python_plugin (Debian's protobuf-compiler
and protobuf-compiler-grpc) on proto/codec/v1/codec.proto, or on the folder
CODEC_PROTO_DIR names. Everything else is in pyproject.toml."""

import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.join("codec", "v1", "codec.proto")


def find_tool(name, fallback):
    path = shutil.which(name) or (fallback if os.path.exists(fallback) else None)
    if path is None:
        raise RuntimeError(f"{name} not found: install protobuf-compiler and protobuf-compiler-grpc")
    return path


class BuildPyWithStubs(build_py):
    def run(self):
        super().run()
        proto_dir = os.environ.get("CODEC_PROTO_DIR", os.path.join(HERE, "..", "..", "proto"))
        if not os.path.exists(os.path.join(proto_dir, PROTO)):
            raise RuntimeError(f"{os.path.join(proto_dir, PROTO)} not found: set CODEC_PROTO_DIR")
        plugin = find_tool("grpc_python_plugin", "/usr/bin/grpc_python_plugin")
        subprocess.run([find_tool("protoc", "/usr/bin/protoc"), f"--proto_path={proto_dir}",
                        f"--python_out={self.build_lib}", f"--grpc_python_out={self.build_lib}",
                        f"--plugin=protoc-gen-grpc_python={plugin}",
                        os.path.join(proto_dir, PROTO)], check=True)
        for package in ("codec", os.path.join("codec", "v1")):
            open(os.path.join(self.build_lib, package, "__init__.py"), "a").close()


setup(cmdclass={"build_py": BuildPyWithStubs})
