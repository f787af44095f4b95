"""Tables of running several bot processes on one database (issue 17): the shared state
(secret key, Matrix sync position), the shared rate-limit buckets, and the outbox a
standby writes Matrix messages to."""
