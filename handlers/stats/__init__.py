"""Stats: the leads' overview of an AG, numbers only."""
