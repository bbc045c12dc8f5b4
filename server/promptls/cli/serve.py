"""`promptls serve`: the language server, over stdio (default) or TCP."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def register(subparsers: Any) -> None:
    s = subparsers.add_parser("serve", help="run the language server (stdio by default)")
    s.add_argument("--stdio", action="store_true", help="speak LSP over stdin/stdout (default)")
    s.add_argument("--tcp", metavar="HOST:PORT", help="listen on a TCP address instead")
    s.add_argument("--log-file", help="write the server log to this file")
    s.add_argument("--max-message-bytes", type=int, metavar="N",
                   help="largest LSP message accepted (default $PROMPTLS_MAX_MESSAGE_BYTES, else 64 MiB)")
    s.add_argument("-v", "--verbose", action="store_true")
    s.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    import logging
    import threading

    level = logging.DEBUG if args.verbose else logging.INFO
    if args.log_file:
        logging.basicConfig(filename=args.log_file, level=level,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    else:
        logging.basicConfig(stream=sys.stderr, level=logging.WARNING if not args.verbose else logging.DEBUG)
    from promptls.lsp.server import create_server  # pygls and the analysis: only for this command

    server = create_server()
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        if not port.isdigit():
            print(f"promptls: --tcp expects HOST:PORT, got {args.tcp!r}", file=sys.stderr)
            return 2
        code = server.start_tcp(host or "127.0.0.1", int(port), args.max_message_bytes)
    else:
        code = server.start_io(max_message_bytes=args.max_message_bytes)
    # After `exit` the interpreter still joins worker threads, i.e. waits for an analysis in progress: the process
    # ends 3 s later at the latest, with the exit code LSP asks for.
    timer = threading.Timer(3.0, os._exit, (code,))
    timer.daemon = True
    timer.start()
    return code
