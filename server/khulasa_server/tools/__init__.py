"""What is not the service: `khulasa-models` (models_cli.py: build, verify, eval, flags,
gazetteer), the evaluation (evaluate.py) and how bundles are made (recipes/)."""
