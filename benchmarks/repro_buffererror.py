"""Reproduce the neo4j driver's ``BufferError: Existing exports of data`` (decision 0020).

The driver's Bolt connection reads into a bytearray (``Inbox``) and writes from one
(``Outbox``). While a thread waits in ``recv_into`` / ``sendall`` on that connection, the socket
call holds a buffer export of the bytearray (the GIL is released, other threads run). Any other
thread that then resizes the same bytearray gets ``BufferError``. So the error means: two threads
inside one connection at once. The driver never hands an in-use connection to a second session,
but ``Driver.close()`` closes in-use connections too, sending GOODBYE from the closing thread.

Modes
-----
inbox   deterministic, no server: a thread blocks in ``Inbox.pop`` on a silent socket; a second
        read of the same connection that must grow the buffer raises BufferError.
outbox  deterministic, no server: a thread blocks in ``Outbox.flush`` (the peer does not read);
        the GOODBYE that ``Bolt.close()`` appends from another thread raises BufferError.
profiler
        deterministic, no server: the driver's own Inbox over its BoltSocket. While a reader
        thread waits in ``BoltSocket.recv_into``, the main thread samples its frame as a
        sampling profiler does (Dask's worker profiler: ``sys._current_frames()``) and keeps
        it; the reader then reads a small message and returns, but the kept frame still holds
        ``recv_into``'s argument, a slice of the read buffer, so the next message that needs a
        larger buffer raises BufferError in the reader itself. ``--release`` drops the frame
        before the large message: no error.
server  against a real server (``sparsetopo server start``): a thread runs a query while the main
        thread closes the driver (what ``executors._close_worker_drivers`` and a caller closing
        a driver under an abandoned ``ServerWatch`` ping did); counts BufferErrors over N rounds.
        ``--join`` closes only after the query thread ended (the fix): 0 BufferErrors.

Usage: python benchmarks/repro_buffererror.py inbox|outbox|profiler|server [--rounds N] [--join]
       [--release]
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import threading
import time
import traceback
from collections import Counter


def _tcp_pair() -> tuple[socket.socket, socket.socket]:
    # TCP on loopback (the Inbox logs its local port, which a Unix socketpair has not)
    with socket.create_server(("127.0.0.1", 0)) as server:
        ours = socket.create_connection(server.getsockname())
        peer, _ = server.accept()
    return ours, peer


def _started(target: object) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)  # type: ignore[arg-type]
    thread.start()
    time.sleep(0.2)  # the thread is now blocked in the socket call (nothing to read / no room)
    return thread


def repro_inbox() -> str:
    from neo4j._codec.packstream.v1 import Unpacker
    from neo4j._sync.io._bolt._common import Inbox, receive_into_buffer

    ours, peer = _tcp_pair()
    inbox = Inbox(ours, on_error=lambda exc: None, unpacker_cls=Unpacker)

    def read() -> None:
        with contextlib.suppress(OSError):  # the socket closes at the end
            inbox.pop(hydration_hooks={})  # waits in recv_into(view[...]): an export

    reader = _started(read)
    try:
        # a second reader of the same connection, receiving a message larger than the buffer
        receive_into_buffer(ours, inbox._buffer, len(inbox._buffer.data) + 1)
        result = "no error"
    except BufferError as exc:
        result = f"BufferError: {exc}"
    peer.close()
    ours.close()
    reader.join(2)
    return result


def repro_outbox() -> str:
    from neo4j._codec.packstream.v1 import Packer
    from neo4j._sync.io._bolt._common import Outbox

    ours, peer = _tcp_pair()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    outbox = Outbox(ours, on_error=lambda exc: None, packer_cls=Packer)
    outbox.append_message(b"\x10", ("RETURN size($x)", {"x": [0.5] * 200_000}, {}), None)

    def flush() -> None:
        with contextlib.suppress(OSError):
            outbox.flush()

    writer = _started(flush)  # waits in sendall(_chunked_data): the peer reads nothing
    try:
        outbox.append_message(b"\x02", (), None)  # GOODBYE, as Bolt.close() sends it
        result = "no error"
    except BufferError as exc:
        result = f"BufferError: {exc}"
    ours.shutdown(socket.SHUT_RDWR)
    writer.join(2)
    peer.close()
    ours.close()
    return result


def _bolt_message(payload: bytes) -> bytes:
    """One RECORD message with one bytes field, in Bolt chunks of at most 60000 bytes."""
    body = b"\xb1\x71\xce" + len(payload).to_bytes(4, "big") + payload
    chunks = [body[i:i + 60000] for i in range(0, len(body), 60000)]
    return b"".join(len(c).to_bytes(2, "big") + c for c in chunks) + b"\x00\x00"


def repro_profiler(release: bool) -> str:
    import sys

    from neo4j._codec.packstream.v1 import Unpacker
    from neo4j._sync.io._bolt._bolt_socket import BoltSocket
    from neo4j._sync.io._bolt._common import Inbox

    ours, peer = _tcp_pair()
    inbox = Inbox(BoltSocket(ours), on_error=lambda exc: None, unpacker_cls=Unpacker)
    got: list[object] = []

    def read() -> None:
        for _ in range(2):
            try:
                got.append(len(inbox.pop(hydration_hooks={})[1][0]))
            except BufferError as exc:
                got.append(f"BufferError: {exc}")
                return

    reader = _started(read)  # waits in BoltSocket.recv_into for the first chunk header
    sampled = sys._current_frames()[reader.ident]  # type: ignore[index]
    assert sampled.f_code.co_name == "_wait_for_io", sampled.f_code.co_name
    peer.sendall(_bolt_message(b"x" * 100))  # fits the 8 KiB buffer
    time.sleep(0.2)  # the reader has returned from that read and waits for the next message
    if release:
        del sampled
    peer.sendall(_bolt_message(b"y" * 200_000))  # needs a larger buffer
    reader.join(5)
    peer.close()
    ours.close()
    return f"messages read: {got}"


def repro_server(rounds: int, join: bool) -> Counter[str]:
    from neo4j import GraphDatabase

    from sparsetopo.graphstore.connection import resolve_connection

    info = resolve_connection(start=False)
    seen: Counter[str] = Counter()
    big = [0.5] * 3_000_000  # ~27 MB of parameters: the query thread spends a while in sendall
    for _ in range(rounds):
        driver = GraphDatabase.driver(info.uri, auth=(info.user, info.password),
                                      max_transaction_retry_time=0)
        driver.verify_connectivity()

        def work(driver=driver) -> None:  # type: ignore[no-untyped-def]
            try:
                driver.execute_query("RETURN size($x) AS n", x=big)
            except BufferError:
                seen["BufferError in the query thread"] += 1
                traceback.print_exc()
            except Exception as exc:  # noqa: BLE001 - counted
                seen[f"{type(exc).__name__} in the query thread"] += 1

        thread = _started(work)
        if join:
            thread.join()
        try:
            driver.close()
        except BufferError:
            seen["BufferError in Driver.close()"] += 1
            traceback.print_exc()
        except AssertionError:  # the same race caught by the outbox's own check
            seen["AssertionError in Driver.close()"] += 1
        thread.join()
        seen["rounds"] += 1
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("inbox", "outbox", "profiler", "server"))
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--join", action="store_true", help="close after the query (the fix)")
    parser.add_argument("--release", action="store_true",
                        help="profiler: drop the sampled frame before the large message")
    args = parser.parse_args()
    if args.mode == "inbox":
        print(repro_inbox())
    elif args.mode == "outbox":
        print(repro_outbox())
    elif args.mode == "profiler":
        print(repro_profiler(args.release))
    else:
        print(dict(repro_server(args.rounds, args.join)))


if __name__ == "__main__":
    main()
