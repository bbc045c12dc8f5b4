"""The baseline for startup figures: a pygls server with one feature and nothing else."""

from lsprotocol import types
from pygls.lsp.server import LanguageServer

server = LanguageServer("bare", "0")


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls, params):
    pass


if __name__ == "__main__":
    server.start_io()
