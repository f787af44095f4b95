"""The way into an AG's chats: invitations and join requests after /join, removal after
/leave where the AG wants it, and what the bot says when it lacks a right for that."""
