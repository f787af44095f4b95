"""Who this process is among the bot's processes on one database (`node id`).

Leases (storage/leases.py) name their holder by it, the logs show it at start, and
`/healthz` reports it. Host name and process id for people reading it, plus a random
part, so a restarted process (same pid in a new container) is never mistaken for the
one before it.
"""

from __future__ import annotations

import os
import secrets
import socket

from storage.leases import OWNER_MAX


def new_node_id() -> str:
    host = socket.gethostname().split(".")[0][:32] or "host"
    return f"{host}:{os.getpid()}:{secrets.token_hex(4)}"[:OWNER_MAX]
