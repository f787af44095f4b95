"""Membership: AGs, joining and leaving, join requests, leads and the chats of an AG."""
