"""The pipeline's stages with their I/O, what DAG tasks and CLI commands call: each reads its
inputs from URIs and settings, calls the stage logic and returns a small typed result."""
