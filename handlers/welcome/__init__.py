"""Welcome: greeting people who enter a chat linked to an AG, and `/welcome on|off`."""
