"""The live demo: a realistic organisation and a stream of realistic posts."""
