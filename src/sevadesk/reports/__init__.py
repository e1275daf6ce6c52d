"""Reports from the rollups: summaries, daily series, units, categories, the public record."""
