"""Bundle builders behind `khulasa-models build`."""
