"""Matrix through matrix-nio (transport.py); the helpers it routes events to depend on
`host.MatrixHost`, not on the transport. Re-exports the transport for the app."""

from bot.transports.matrix.transport import MatrixTransport

__all__ = ["MatrixTransport"]
