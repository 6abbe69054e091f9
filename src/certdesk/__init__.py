"""certdesk."""
