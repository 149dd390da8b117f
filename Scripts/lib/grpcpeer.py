#!/usr/bin/env python3
"""grpcpeer.py — a gRPC server and client (PyPI `grpcio`) without generated protobuf code: messages
are raw bytes (identity serializers). The integration tests run it with the project's Python
(.build/venv, Scripts/test installs grpcio). Plain-text channels only, so HTTP/2 is h2c with prior
knowledge.

  grpcpeer.py server [--host 127.0.0.1] [--port 0] [--calls-file PATH] [--unavailable-first N]
      Serves /faultline.test.Echo/Say (answers the request's bytes) and /faultline.test.Echo/Other
      (answers b"other"). Prints one line on stdout, {"port": PORT} (the port it bound, useful with
      --port 0), then nothing else; runs until killed (SIGTERM or SIGINT stop it). It counts the
      calls that reached each method; with --calls-file, after every call PATH is replaced
      (atomically) by {"/faultline.test.Echo/Say": COUNT, ...}. With --unavailable-first N the
      first N calls (counted over both methods) fail with UNAVAILABLE "unavailable-first", which
      checks a client's retry policy without a proxy.

  grpcpeer.py client --target HOST:PORT [--method /faultline.test.Echo/Say] [--count 1]
                     [--message TEXT] [--timeout SECONDS] [--retry-policy]
      Makes COUNT unary calls one after another on one channel, each with the bytes of TEXT
      (default "hello") and a deadline of --timeout seconds (default 5), and prints one JSON line
      per call: {"method": M, "code": "OK" | StatusCode name, "details": str | null,
      "response_len": int | null}. With --retry-policy the channel has a service config whose
      retryPolicy retries UNAVAILABLE (maxAttempts 4, initialBackoff 0.1s, maxBackoff 1s,
      backoffMultiplier 2), and grpc.enable_retries=1. Exit 0 when every call ran (whatever its
      status), 2 on a usage error.
"""

import argparse
import json
import os
import signal
import sys
import threading
from concurrent import futures

import grpc

SERVICE = "faultline.test.Echo"

RETRY_SERVICE_CONFIG = {
    "methodConfig": [{
        "name": [{"service": SERVICE}],
        "retryPolicy": {
            "maxAttempts": 4,
            "initialBackoff": "0.1s",
            "maxBackoff": "1s",
            "backoffMultiplier": 2,
            "retryableStatusCodes": ["UNAVAILABLE"],
        },
    }],
}


def identity(data):
    return data


def serve(args):
    calls = {}
    lock = threading.Lock()

    def counted(method, answer):
        def handler(request, context):
            with lock:
                calls[method] = calls.get(method, 0) + 1
                fail = sum(calls.values()) <= args.unavailable_first
                if args.calls_file:
                    with open(args.calls_file + ".tmp", "w") as out:
                        json.dump(calls, out)
                    os.replace(args.calls_file + ".tmp", args.calls_file)
            if fail:
                context.abort(grpc.StatusCode.UNAVAILABLE, "unavailable-first")
            return answer(request)
        return grpc.unary_unary_rpc_method_handler(handler, request_deserializer=identity, response_serializer=identity)

    handlers = grpc.method_handlers_generic_handler(SERVICE, {
        "Say": counted(f"/{SERVICE}/Say", lambda request: request),
        "Other": counted(f"/{SERVICE}/Other", lambda request: b"other"),
    })
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers((handlers,))
    port = server.add_insecure_port(f"{args.host}:{args.port}")
    if port == 0:
        sys.exit(f"grpcpeer: cannot bind {args.host}:{args.port}")
    server.start()
    print(json.dumps({"port": port}), flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(0.2):
        pass
    server.stop(grace=None)


def client(args):
    options = []
    if args.retry_policy:
        options = [("grpc.enable_retries", 1), ("grpc.service_config", json.dumps(RETRY_SERVICE_CONFIG))]
    with grpc.insecure_channel(args.target, options=options) as channel:
        call = channel.unary_unary(args.method, request_serializer=None, response_deserializer=None)
        for _ in range(args.count):
            try:
                response = call(args.message.encode(), timeout=args.timeout)
                line = {"method": args.method, "code": "OK", "details": None, "response_len": len(response)}
            except grpc.RpcError as error:
                line = {"method": args.method, "code": error.code().name, "details": error.details(), "response_len": None}
            print(json.dumps(line), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    modes = parser.add_subparsers(dest="mode", required=True)
    server = modes.add_parser("server", help="serve the Echo service")
    server.add_argument("--host", default="127.0.0.1")
    server.add_argument("--port", type=int, default=0)
    server.add_argument("--calls-file", help="keep the per-method call counts in this JSON file")
    server.add_argument("--unavailable-first", type=int, default=0, metavar="N", help="fail the first N calls")
    call = modes.add_parser("client", help="make unary calls")
    call.add_argument("--target", required=True, help="HOST:PORT")
    call.add_argument("--method", default=f"/{SERVICE}/Say")
    call.add_argument("--count", type=int, default=1)
    call.add_argument("--message", default="hello")
    call.add_argument("--timeout", type=float, default=5.0)
    call.add_argument("--retry-policy", action="store_true")
    args = parser.parse_args()
    serve(args) if args.mode == "server" else client(args)


if __name__ == "__main__":
    main()
