"""Risk models: features from the warehouse, training and validation, intervals, explanations."""
