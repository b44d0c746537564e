"""Drives codec_server by server reflection alone, as grpcurl does.

Usage: reflection_test.py HOST:PORT

The client knows no .proto file: it lists the services, describes every one
(each method's request and reply types must resolve through reflection),
then builds requests and reads replies from the reflected descriptors only:
grpc.health.v1.Health/Check ('' and both codec services SERVING, an unknown
service NOT_FOUND), codec.v1.ModelService/GetModel for "tiny" (READY, 24 kHz)
and ListDevices (the CPU among them). So a client that has nothing but the
server's address can find and call everything it serves. Exits non-zero,
naming the check, on the first mismatch.
"""

import sys

import grpc
from google.protobuf import descriptor_pool, message_factory
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

EXPECTED = {
    "codec.v1.CodecService": ["Decode", "Encode"],
    "codec.v1.ModelService": ["GetModel", "ListDevices", "ListModels", "Load", "Unload"],
    "grpc.health.v1.Health": ["Check", "Watch"],
}
MODEL = "tiny"  # run.sh's --models=tiny=encodec:encodec24_tiny_bw6
SAMPLE_RATE = 24000
DEVICE = "cpu"
DEADLINE_S = 10


class Failure(Exception):
    """A check that did not hold; its message names it."""


class CallFailed(Failure):
    """A call that ended in an error status, `code`."""

    def __init__(self, path, error):
        super().__init__(f"{path}: {error.code().name}: {error.details()}")
        self.code = error.code()


def check(condition, message):
    if not condition:
        raise Failure(message)


def message_type(descriptor, streaming):
    """grpcurl's name of a request or reply type, once its message class (nested
    types and all) is made from the reflected descriptor alone."""
    message_factory.GetMessageClass(descriptor)
    return ("stream ." if streaming else ".") + descriptor.full_name


def describe(pool, name):
    """Prints `name` as grpcurl's describe does; returns its method names."""
    try:
        service = pool.FindServiceByName(name)
    except (KeyError, grpc.RpcError) as error:
        raise Failure(f"describe {name}: reflection gave no definition ({error})")
    print(f"{name} is a service:\nservice {service.name} {{")
    for method in service.methods:
        request = message_type(method.input_type, method.client_streaming)
        reply = message_type(method.output_type, method.server_streaming)
        print(f"  rpc {method.name} ( {request} ) returns ( {reply} );")
    print("}")
    return sorted(method.name for method in service.methods)


def call(channel, pool, path, **fields):
    """Calls the unary method `path` ("package.Service/Method") with a request
    of `fields`, both messages made from the reflected descriptors."""
    service_name, method_name = path.split("/")
    method = pool.FindServiceByName(service_name).methods_by_name[method_name]
    request_class = message_factory.GetMessageClass(method.input_type)
    reply_class = message_factory.GetMessageClass(method.output_type)
    stub = channel.unary_unary(
        f"/{path}",
        request_serializer=request_class.SerializeToString,
        response_deserializer=reply_class.FromString,
    )
    try:
        return stub(request_class(**fields), timeout=DEADLINE_S)
    except grpc.RpcError as error:
        raise CallFailed(path, error)


def enum_name(message, field):
    """The name of enum `field`'s value in `message`."""
    enum_type = message.DESCRIPTOR.fields_by_name[field].enum_type
    return enum_type.values_by_number[getattr(message, field)].name


def check_services(pool, database):
    try:
        services = sorted(database.get_services())
    except grpc.RpcError as error:
        raise CallFailed("list (ServerReflectionInfo)", error)
    print(f"list: {', '.join(services)}")
    for name in EXPECTED:
        check(name in services, f"list lacks {name}: {services}")
    for name in services:
        methods = describe(pool, name)
        if name in EXPECTED:
            check(methods == EXPECTED[name],
                  f"describe {name}: methods {methods}, expected {EXPECTED[name]}")


def check_health(channel, pool):
    for service in ["", "codec.v1.CodecService", "codec.v1.ModelService"]:
        reply = call(channel, pool, "grpc.health.v1.Health/Check", service=service)
        status = enum_name(reply, "status")
        check(status == "SERVING", f"Health/Check '{service}': {status}, expected SERVING")
        print(f"Health/Check '{service}': {status}")
    try:
        reply = call(channel, pool, "grpc.health.v1.Health/Check", service="no.such.Service")
    except CallFailed as failed:
        check(failed.code == grpc.StatusCode.NOT_FOUND, f"{failed}, expected NOT_FOUND")
    else:
        raise Failure(f"Health/Check 'no.such.Service': {reply}, expected NOT_FOUND")
    print("Health/Check 'no.such.Service': NOT_FOUND")


def check_models(channel, pool):
    info = call(channel, pool, "codec.v1.ModelService/GetModel", model_id=MODEL)
    state = enum_name(info, "state")
    check(info.model_id == MODEL, f"GetModel {MODEL}: model_id {info.model_id!r}")
    check(state == "MODEL_STATE_READY",
          f"GetModel {MODEL}: state {state}, expected MODEL_STATE_READY")
    rate = info.description.sample_rate
    check(rate == SAMPLE_RATE, f"GetModel {MODEL}: sample_rate {rate}, expected {SAMPLE_RATE}")
    print(f"ModelService/GetModel {MODEL}: {state}, {info.description.family}, {rate} Hz")
    devices = [device.name for device in
               call(channel, pool, "codec.v1.ModelService/ListDevices").devices]
    check(DEVICE in devices, f"ListDevices lacks {DEVICE}: {devices}")
    print(f"ModelService/ListDevices: {', '.join(devices)}")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with grpc.insecure_channel(sys.argv[1]) as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=DEADLINE_S)
            database = ProtoReflectionDescriptorDatabase(channel)
            pool = descriptor_pool.DescriptorPool(database)
            check_services(pool, database)
            check_health(channel, pool)
            check_models(channel, pool)
        except grpc.FutureTimeoutError:
            sys.exit(f"FAIL: no connection to {sys.argv[1]} in {DEADLINE_S} s")
        except Failure as failure:
            sys.exit(f"FAIL: {failure}")


if __name__ == "__main__":
    main()
