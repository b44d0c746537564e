"""The one exception both clients raise for a failed call."""

import grpc


class CodecError(grpc.RpcError):
    """A call the server (or the channel) ended with a status other than OK.

    `code` is the grpc.StatusCode and `message` the server's message; like
    grpc.RpcError's, `code()` and `details()` return them too.
    """

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(f"{code.name}: {message}")
        self.code_value = code
        self.message = message

    def code(self) -> grpc.StatusCode:
        return self.code_value

    def details(self) -> str:
        return self.message

    @classmethod
    def from_rpc(cls, error: grpc.RpcError) -> "CodecError":
        code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
        details = error.details() if hasattr(error, "details") else str(error)
        return cls(code, details or "")
