"""Tables of running several bot processes on one database (issue 17): the shared secret
key, the shared rate-limit buckets and the outbox a standby writes Matrix messages to."""
