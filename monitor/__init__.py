"""newsmon: a streaming news monitor."""
