"""Jobs: Huey tasks (SQLite queue embedded, Redis when ``REDIS_URL`` is set), the worker
command and a durable record of every run (design rules 5 and 6)."""
