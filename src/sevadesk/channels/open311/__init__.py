"""Open311 GeoReport v2: civic apps file and track requests with the desk."""
