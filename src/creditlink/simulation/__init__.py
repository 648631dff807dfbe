"""The digital twin and the scenario runner, both driving the real use cases."""
