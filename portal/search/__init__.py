"""Full-text search. The only package that imports whoosh."""
