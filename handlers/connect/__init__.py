"""One person on two networks: `/connect`, `/disconnect`."""
