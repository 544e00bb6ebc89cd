from __future__ import annotations

import socket
from pathlib import Path

from canfar_desktop.core.probe import established_connections


def test_counts_established_connections_from_proc_format(tmp_path: Path) -> None:
    header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    rows = [
        "   0: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000 0 0 1\n",  # :8080 established
        "   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 2\n",  # :8080 listening
        "   2: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000 0 0 3\n",  # client side
    ]
    (tmp_path / "tcp").write_text(header + "".join(rows))
    (tmp_path / "tcp6").write_text(header)
    assert established_connections(8080, tmp_path) == 1
    assert established_connections(9999, tmp_path) == 0
    assert established_connections(8080, tmp_path / "missing") is None


def test_counts_a_real_connection() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert established_connections(port) == 0
        with socket.create_connection(("127.0.0.1", port)):
            conn, _ = server.accept()
            with conn:
                assert established_connections(port) == 1
