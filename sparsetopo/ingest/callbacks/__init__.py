"""Callbacks that snapshot a training framework's model through a Recorder."""
