"""Full-text search for engineers: text analysis (and, later, the whoosh index over articles)."""
