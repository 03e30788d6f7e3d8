"""Example hashpivot plugin: a curtailment-credit revenue model."""
