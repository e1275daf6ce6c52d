"""What `seva bench` runs; recorded results live in benchmarks/README.md."""
