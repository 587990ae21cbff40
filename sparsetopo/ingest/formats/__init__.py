"""File formats read and written by sparsetopo.ingest.importers."""
