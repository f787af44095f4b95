"""How people get into an AG's chats: invite links, join requests, rights the bot lacks,
and the alliance-wide settings (the Matrix Space)."""
