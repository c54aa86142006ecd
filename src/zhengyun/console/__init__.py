"""Console: the server-rendered shell — layout, navigation by role, scope switching,
language switching and the per-role home page (R-A1)."""
