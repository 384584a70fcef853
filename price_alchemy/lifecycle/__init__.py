"""The model's life in MLflow: tracking runs and models, the names of run tags and metrics, the
registry and its promotion gate, reproducing a run, exporting a version for serving."""
